-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "leaseLosses" INTEGER NOT NULL DEFAULT 0;
