-- AlterTable
ALTER TABLE "message" ADD COLUMN "requeued_at" DATETIME;
