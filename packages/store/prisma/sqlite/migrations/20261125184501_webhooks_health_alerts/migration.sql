-- AlterTable
ALTER TABLE "message" ADD COLUMN "clicked_at" DATETIME;
ALTER TABLE "message" ADD COLUMN "delivered_at" DATETIME;
ALTER TABLE "message" ADD COLUMN "opened_at" DATETIME;

-- AlterTable
ALTER TABLE "suppression" ADD COLUMN "event_id" TEXT;

-- CreateTable
CREATE TABLE "process_heartbeat" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "role" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" DATETIME NOT NULL,
    "seen_at" DATETIME NOT NULL,
    "breakers" JSONB NOT NULL
);

-- CreateTable
CREATE TABLE "lease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "owner" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL,
    "acquired_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "alert" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "detail" JSONB NOT NULL,
    "started_at" DATETIME NOT NULL,
    "last_notified_at" DATETIME,
    "notify_count" INTEGER NOT NULL DEFAULT 0,
    "resolved_at" DATETIME
);

-- CreateTable
CREATE TABLE "alert_notification" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "alert_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "sent_at" DATETIME NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "error" TEXT,
    CONSTRAINT "alert_notification_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alert" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_event" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "provider" TEXT NOT NULL,
    "provider_event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "provider_type" TEXT NOT NULL,
    "occurred_at" DATETIME NOT NULL,
    "received_at" DATETIME NOT NULL,
    "recipient" TEXT,
    "provider_message_id" TEXT,
    "reason" TEXT,
    "effect" TEXT NOT NULL,
    "message_id" TEXT,
    "attempt_id" TEXT,
    "payload" JSONB NOT NULL,
    CONSTRAINT "event_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "event_attempt_id_fkey" FOREIGN KEY ("attempt_id") REFERENCES "attempt" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_event" ("attempt_id", "id", "message_id", "occurred_at", "payload", "provider", "provider_event_id", "received_at", "type") SELECT "attempt_id", "id", "message_id", "occurred_at", "payload", "provider", "provider_event_id", "received_at", "type" FROM "event";
DROP TABLE "event";
ALTER TABLE "new_event" RENAME TO "event";
CREATE INDEX "event_message_id_idx" ON "event"("message_id");
CREATE INDEX "event_attempt_id_idx" ON "event"("attempt_id");
CREATE INDEX "event_type_received_at_idx" ON "event"("type", "received_at");
CREATE INDEX "event_received_at_idx" ON "event"("received_at");
CREATE UNIQUE INDEX "event_provider_provider_event_id_key" ON "event"("provider", "provider_event_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "process_heartbeat_seen_at_idx" ON "process_heartbeat"("seen_at");

-- CreateIndex
CREATE INDEX "alert_state_kind_subject_idx" ON "alert"("state", "kind", "subject");

-- CreateIndex
CREATE INDEX "alert_started_at_idx" ON "alert"("started_at");

-- CreateIndex
CREATE INDEX "alert_notification_alert_id_idx" ON "alert_notification"("alert_id");
