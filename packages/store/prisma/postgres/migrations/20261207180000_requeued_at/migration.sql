-- AlterTable
ALTER TABLE "message" ADD COLUMN     "requeued_at" TIMESTAMPTZ(3);
