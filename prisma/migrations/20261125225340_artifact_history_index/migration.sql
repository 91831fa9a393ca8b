-- DropIndex
DROP INDEX "artifacts_topicId_createdAt_idx";

-- CreateIndex
CREATE INDEX "artifacts_topicId_createdAt_id_idx" ON "artifacts"("topicId", "createdAt" DESC, "id" DESC);
