-- AlterTable
ALTER TABLE "message" ADD COLUMN     "idempotency_hash" TEXT;

-- AlterTable
ALTER TABLE "message_recipient" ADD COLUMN     "suppressed_at" TIMESTAMPTZ(3),
ADD COLUMN     "suppressed_reason" TEXT;

-- AlterTable
ALTER TABLE "attempt" ALTER COLUMN "provider" DROP NOT NULL,
ALTER COLUMN "provider_type" DROP NOT NULL;
