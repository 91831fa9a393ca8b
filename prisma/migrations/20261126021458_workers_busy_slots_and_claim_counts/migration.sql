-- AlterTable
ALTER TABLE "workers" ADD COLUMN     "busySlots" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "stoppedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "claim_counts" (
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "workerId" TEXT NOT NULL,
    "claims" INTEGER NOT NULL,
    "conflicts" INTEGER NOT NULL,

    CONSTRAINT "claim_counts_pkey" PRIMARY KEY ("at","workerId")
);

-- CreateIndex
CREATE INDEX "task_events_requeued_at_idx" ON "task_events"("at") WHERE (status = ANY (ARRAY['PENDING'::"TaskStatus", 'DEAD'::"TaskStatus"]) AND sequence > 1);
