-- AlterTable
ALTER TABLE "workflows" ADD COLUMN     "idempotencyHash" TEXT;
