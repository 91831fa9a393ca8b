-- AlterTable
ALTER TABLE "template_versions" ADD COLUMN     "isPublic" BOOLEAN NOT NULL DEFAULT false;

-- Backfill (hand-written): when earlier versions were recorded is not known, so every version
-- of a template public now stays as visible as it was. The immutability trigger refuses
-- statements on version rows; it is off for this one.
ALTER TABLE "template_versions" DISABLE TRIGGER "template_versions_immutable";
UPDATE "template_versions" v SET "isPublic" = true
FROM "templates" t WHERE t."id" = v."templateId" AND t."isPublic";
ALTER TABLE "template_versions" ENABLE TRIGGER "template_versions_immutable";
