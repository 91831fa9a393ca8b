-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "mintedById" UUID;

-- CreateIndex
CREATE INDEX "api_keys_mintedById_idx" ON "api_keys"("mintedById");
