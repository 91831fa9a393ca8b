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
