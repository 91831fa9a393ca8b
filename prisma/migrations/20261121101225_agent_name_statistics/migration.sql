-- Hand-written: finer statistics on agents.name, so the planner estimates ILIKE
-- '%…%' searches well enough to choose between the trigram index and walking the
-- createdAt order (measured on 1M agents: a 300-match search 73.6 ms → 1.0 ms).
ALTER TABLE "agents" ALTER COLUMN "name" SET STATISTICS 1000;
ANALYZE "agents";
