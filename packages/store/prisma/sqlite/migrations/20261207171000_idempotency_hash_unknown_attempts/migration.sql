-- AlterTable
ALTER TABLE "message" ADD COLUMN "idempotency_hash" TEXT;

-- AlterTable
ALTER TABLE "message_recipient" ADD COLUMN "suppressed_at" DATETIME;
ALTER TABLE "message_recipient" ADD COLUMN "suppressed_reason" TEXT;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_attempt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "message_id" TEXT NOT NULL,
    "worker" TEXT,
    "provider" TEXT,
    "provider_type" TEXT,
    "started_at" DATETIME NOT NULL,
    "finished_at" DATETIME NOT NULL,
    "latency_ms" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "error_category" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "status_code" INTEGER,
    "provider_message_id" TEXT,
    "request_summary" JSONB,
    "detail" JSONB,
    "error" JSONB,
    CONSTRAINT "attempt_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_attempt" ("detail", "error", "error_category", "error_code", "error_message", "finished_at", "id", "latency_ms", "message_id", "outcome", "provider", "provider_message_id", "provider_type", "request_summary", "started_at", "status_code", "worker") SELECT "detail", "error", "error_category", "error_code", "error_message", "finished_at", "id", "latency_ms", "message_id", "outcome", "provider", "provider_message_id", "provider_type", "request_summary", "started_at", "status_code", "worker" FROM "attempt";
DROP TABLE "attempt";
ALTER TABLE "new_attempt" RENAME TO "attempt";
CREATE INDEX "attempt_message_id_idx" ON "attempt"("message_id");
CREATE INDEX "attempt_provider_health_idx" ON "attempt"("provider", "started_at", "outcome", "error_category", "latency_ms");
CREATE INDEX "attempt_provider_message_id_idx" ON "attempt"("provider_message_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
