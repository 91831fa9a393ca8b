-- Teams own what they make (issue 27). Every owned row gets a team: agents, taxonomies (their
-- documents and chunks belong through them), tasks, topics (artifacts through them), templates
-- and API keys. The creator columns (ownerId, userId) stay beside it.
--
-- Upgrading changes no key's view: each existing user gets a personal team (as its OWNER)
-- holding what they own (tasks, topics, templates, keys); the deployment-wide agents and
-- taxonomies go to the `default` team, which every existing user joins as a MEMBER. Tasks and
-- templates without an owner, which no user's key could reach (but an ADMIN one, for tasks),
-- go to the personal team of the operator's user (`admin`, the ADMIN_API_KEY's).

CREATE TYPE "TeamRole" AS ENUM ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER');

CREATE TABLE "teams" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "personal" BOOLEAN NOT NULL DEFAULT false,
    "personalUserId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "teams_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "teams_slug_key" ON "teams"("slug");
CREATE UNIQUE INDEX "teams_personalUserId_key" ON "teams"("personalUserId");
ALTER TABLE "teams" ADD CONSTRAINT "teams_personalUserId_fkey" FOREIGN KEY ("personalUserId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "team_members" (
    "teamId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "role" "TeamRole" NOT NULL,
    "joinedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "team_members_pkey" PRIMARY KEY ("teamId","userId")
);
CREATE INDEX "team_members_userId_idx" ON "team_members"("userId");
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "team_invitations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "teamId" UUID NOT NULL,
    "role" "TeamRole" NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL DEFAULT (now() + '7 days'::interval),
    "acceptedAt" TIMESTAMPTZ(3),
    "acceptedById" UUID,
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "team_invitations_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "team_invitations_tokenHash_key" ON "team_invitations"("tokenHash");
CREATE INDEX "team_invitations_teamId_createdAt_idx" ON "team_invitations"("teamId", "createdAt" DESC);
ALTER TABLE "team_invitations" ADD CONSTRAINT "team_invitations_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "team_invitations" ADD CONSTRAINT "team_invitations_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "team_invitations" ADD CONSTRAINT "team_invitations_acceptedById_fkey" FOREIGN KEY ("acceptedById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The default team, and a personal team per user. A personal slug is u-<name as a slug, cut>-
-- <6 hex of the user id> (valid against ^[a-z0-9-]{3,40}$); where two users would get the
-- same one, both get 12 hex instead.
INSERT INTO "teams" ("slug", "name") VALUES ('default', 'Default');
-- The operator's user (made on the ADMIN_API_KEY's first use) holds the ownerless rows.
INSERT INTO "users" ("name")
SELECT 'admin' WHERE EXISTS (SELECT 1 FROM "tasks" WHERE "ownerId" IS NULL)
                  OR EXISTS (SELECT 1 FROM "templates" WHERE "ownerId" IS NULL)
ON CONFLICT ("name") DO NOTHING;

INSERT INTO "teams" ("slug", "name", "personal", "personalUserId", "createdAt")
SELECT CASE WHEN count(*) OVER (PARTITION BY part, short) > 1
            THEN 'u-' || btrim(left(part, 25), '-') || '-' || substr(md5(id::text), 1, 12)
            ELSE 'u-' || part || '-' || short END,
       name, true, id, "createdAt"
FROM (
  SELECT id, name, "createdAt", substr(md5(id::text), 1, 6) AS short,
         coalesce(nullif(btrim(left(btrim(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), '-'), 31), '-'), ''), 'user') AS part
  FROM "users"
) AS named;

INSERT INTO "team_members" ("teamId", "userId", "role", "joinedAt")
SELECT "id", "personalUserId", 'OWNER', "createdAt" FROM "teams" WHERE "personal";

INSERT INTO "team_members" ("teamId", "userId", "role", "joinedAt")
SELECT d."id", u."id", 'MEMBER', u."createdAt" FROM "users" u, "teams" d WHERE d."slug" = 'default';

-- Agents and taxonomies: all in `default` (a constant default fills existing rows without
-- rewriting the table; it is dropped again, so new rows must name their team).
DO $$
DECLARE
  default_team uuid := (SELECT "id" FROM "teams" WHERE "slug" = 'default');
BEGIN
  EXECUTE format('ALTER TABLE "agents" ADD COLUMN "teamId" UUID NOT NULL DEFAULT %L', default_team);
  EXECUTE format('ALTER TABLE "taxonomies" ADD COLUMN "teamId" UUID NOT NULL DEFAULT %L', default_team);
END
$$;
ALTER TABLE "agents" ALTER COLUMN "teamId" DROP DEFAULT;
ALTER TABLE "taxonomies" ALTER COLUMN "teamId" DROP DEFAULT;

-- Tasks, topics, templates and keys: their owner's personal team, else the operator's user's.
ALTER TABLE "tasks" ADD COLUMN "teamId" UUID;
ALTER TABLE "topics" ADD COLUMN "teamId" UUID;
ALTER TABLE "templates" ADD COLUMN "teamId" UUID;
ALTER TABLE "api_keys" ADD COLUMN "teamId" UUID;

UPDATE "tasks" t SET "teamId" = p."id" FROM "teams" p WHERE p."personalUserId" = t."ownerId";
UPDATE "topics" t SET "teamId" = p."id" FROM "teams" p WHERE p."personalUserId" = t."ownerId";
UPDATE "templates" t SET "teamId" = p."id" FROM "teams" p WHERE p."personalUserId" = t."ownerId";
UPDATE "api_keys" k SET "teamId" = p."id" FROM "teams" p WHERE p."personalUserId" = k."userId";
UPDATE "tasks" SET "teamId" = (SELECT p."id" FROM "teams" p JOIN "users" u ON u."id" = p."personalUserId" WHERE u."name" = 'admin') WHERE "teamId" IS NULL;
UPDATE "templates" SET "teamId" = (SELECT p."id" FROM "teams" p JOIN "users" u ON u."id" = p."personalUserId" WHERE u."name" = 'admin') WHERE "teamId" IS NULL;

ALTER TABLE "tasks" ALTER COLUMN "teamId" SET NOT NULL;
ALTER TABLE "topics" ALTER COLUMN "teamId" SET NOT NULL;
ALTER TABLE "templates" ALTER COLUMN "teamId" SET NOT NULL;
ALTER TABLE "api_keys" ALTER COLUMN "teamId" SET NOT NULL;

ALTER TABLE "agents" ADD CONSTRAINT "agents_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "taxonomies" ADD CONSTRAINT "taxonomies_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "topics" ADD CONSTRAINT "topics_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "templates" ADD CONSTRAINT "templates_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Lists now filter by team: each walks (teamId, createdAt desc, id desc). The per-owner list
-- indexes they replace become plain owner indexes where a foreign key still needs one.
DROP INDEX "tasks_ownerId_createdAt_idx";
DROP INDEX "templates_ownerId_createdAt_idx";
DROP INDEX "topics_ownerId_createdAt_id_idx";
CREATE INDEX "agents_teamId_createdAt_id_idx" ON "agents"("teamId", "createdAt" DESC, "id" DESC);
CREATE INDEX "tasks_teamId_createdAt_id_idx" ON "tasks"("teamId", "createdAt" DESC, "id" DESC);
CREATE INDEX "topics_teamId_createdAt_id_idx" ON "topics"("teamId", "createdAt" DESC, "id" DESC);
CREATE INDEX "templates_teamId_createdAt_id_idx" ON "templates"("teamId", "createdAt" DESC, "id" DESC);
CREATE INDEX "topics_ownerId_idx" ON "topics"("ownerId");
CREATE INDEX "templates_ownerId_idx" ON "templates"("ownerId");
CREATE INDEX "api_keys_teamId_idx" ON "api_keys"("teamId");

-- A taxonomy version is unique per team; a lookup by version alone (the operator's) has its index.
DROP INDEX "taxonomies_version_key";
CREATE UNIQUE INDEX "taxonomies_teamId_version_key" ON "taxonomies"("teamId", "version");
CREATE INDEX "taxonomies_version_idx" ON "taxonomies"("version");

-- agents(search:)'s estimate past its exact cap, now among the caller's teams (NULL: all).
DROP FUNCTION agents_matching_estimate(text);
CREATE FUNCTION agents_matching_estimate(pattern text, teams uuid[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  plan json;
BEGIN
  IF teams IS NULL THEN
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM agents WHERE name ILIKE %L', pattern) INTO plan;
  ELSE
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM agents WHERE "teamId" = ANY (%L::uuid[]) AND name ILIKE %L', teams, pattern) INTO plan;
  END IF;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
