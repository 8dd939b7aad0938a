-- AlterTable
ALTER TABLE "message" ADD COLUMN     "clicked_at" TIMESTAMPTZ(3),
ADD COLUMN     "delivered_at" TIMESTAMPTZ(3),
ADD COLUMN     "opened_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "event" ADD COLUMN     "effect" TEXT NOT NULL,
ADD COLUMN     "provider_message_id" TEXT,
ADD COLUMN     "provider_type" TEXT NOT NULL,
ADD COLUMN     "reason" TEXT,
ADD COLUMN     "recipient" TEXT;

-- AlterTable
ALTER TABLE "suppression" ADD COLUMN     "event_id" TEXT;

-- CreateTable
CREATE TABLE "process_heartbeat" (
    "id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL,
    "breakers" JSONB NOT NULL,

    CONSTRAINT "process_heartbeat_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lease" (
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lease_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "alert" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "detail" JSONB NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_notified_at" TIMESTAMPTZ(3),
    "notify_count" INTEGER NOT NULL DEFAULT 0,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_notification" (
    "id" TEXT NOT NULL,
    "alert_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "error" TEXT,

    CONSTRAINT "alert_notification_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "process_heartbeat_seen_at_idx" ON "process_heartbeat"("seen_at");

-- CreateIndex
CREATE INDEX "alert_state_kind_subject_idx" ON "alert"("state", "kind", "subject");

-- CreateIndex
CREATE INDEX "alert_started_at_idx" ON "alert"("started_at");

-- CreateIndex
CREATE INDEX "alert_notification_alert_id_idx" ON "alert_notification"("alert_id");

-- CreateIndex
CREATE INDEX "event_attempt_id_idx" ON "event"("attempt_id");

-- CreateIndex
CREATE INDEX "event_type_received_at_idx" ON "event"("type", "received_at");

-- CreateIndex
CREATE INDEX "event_received_at_idx" ON "event"("received_at");

-- AddForeignKey
ALTER TABLE "alert_notification" ADD CONSTRAINT "alert_notification_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;
