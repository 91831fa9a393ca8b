-- The teams other than its agent's whose documents a coverage history entry counted: the entry
-- is listed only to a reader in every such team now (docs/teams.md). Entries written before
-- this migration name none, as they did not record them.
CREATE TABLE "coverage_history_teams" (
    "historyId" UUID NOT NULL,
    "teamId" UUID NOT NULL,

    CONSTRAINT "coverage_history_teams_pkey" PRIMARY KEY ("historyId", "teamId")
);
ALTER TABLE "coverage_history_teams" ADD CONSTRAINT "coverage_history_teams_historyId_fkey"
  FOREIGN KEY ("historyId") REFERENCES "coverage_history"("id") ON DELETE CASCADE ON UPDATE CASCADE;
