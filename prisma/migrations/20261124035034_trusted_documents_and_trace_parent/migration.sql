-- Trusted documents (persisted operations) and the trace a task continues.
-- tasks."traceParent": the W3C traceparent of the request that enqueued the task; existing
-- rows keep NULL (no trace to continue), as every row does while tracing is off.
-- trusted_documents: hash (sha256 hex of the text) → document, shared by every API process.

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "traceParent" TEXT;

-- CreateTable
CREATE TABLE "trusted_documents" (
    "hash" TEXT NOT NULL,
    "document" TEXT NOT NULL,
    "registeredById" UUID,
    "source" TEXT NOT NULL,
    "registeredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trusted_documents_pkey" PRIMARY KEY ("hash")
);

-- CreateIndex
CREATE INDEX "trusted_documents_registeredById_idx" ON "trusted_documents"("registeredById");

-- AddForeignKey
ALTER TABLE "trusted_documents" ADD CONSTRAINT "trusted_documents_registeredById_fkey" FOREIGN KEY ("registeredById") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
