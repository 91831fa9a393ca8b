-- AlterTable
ALTER TABLE "workflows" ADD COLUMN     "apiKeyId" UUID;
