-- AlterTable
ALTER TABLE "templates" ADD COLUMN     "parentVersion" INTEGER;

-- AlterTable
ALTER TABLE "topics" ADD COLUMN     "templateVersion" INTEGER;

-- CreateTable
CREATE TABLE "template_versions" (
    "templateId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "promptSystem" TEXT,
    "variables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "changelog" TEXT,
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_versions_pkey" PRIMARY KEY ("templateId","version")
);

-- CreateIndex
CREATE INDEX "template_versions_createdById_idx" ON "template_versions"("createdById");

-- AddForeignKey
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "templates"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Data (hand-written): every existing template's current content becomes its first recorded
-- version, made by its owner when it was last updated. Earlier contents were overwritten
-- before versions were kept, so they cannot be recorded.
INSERT INTO "template_versions" ("templateId", "version", "content", "promptSystem", "variables", "changelog", "createdById", "createdAt")
SELECT "id", "version", "content", "promptSystem", "variables", "changelog", "ownerId", "updatedAt"
FROM "templates";

-- Data (hand-written): a fork never updated still has the changelog forkTemplate wrote,
-- which names the parent's version at fork time. Other forks' parentVersion stays unknown.
UPDATE "templates"
SET "parentVersion" = substring("changelog" from '^Forked from version ([0-9]+)$')::int
WHERE "parentId" IS NOT NULL AND "version" = 1 AND "changelog" ~ '^Forked from version [0-9]+$';

-- Immutability (hand-written): a version row is never changed or removed by a statement of
-- its own; only the foreign keys' actions may (deleting the template, or its author's user),
-- which run one trigger level down.
CREATE FUNCTION "template_versions_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'template versions are immutable' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER "template_versions_immutable"
BEFORE UPDATE OR DELETE ON "template_versions"
FOR EACH ROW EXECUTE FUNCTION "template_versions_immutable"();
