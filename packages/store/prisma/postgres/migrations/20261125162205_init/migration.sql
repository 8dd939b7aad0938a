-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "message" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL DEFAULT 'default',
    "status" TEXT NOT NULL,
    "from_address" JSONB NOT NULL,
    "to_addresses" JSONB NOT NULL,
    "cc_addresses" JSONB NOT NULL,
    "bcc_addresses" JSONB NOT NULL,
    "reply_to_addresses" JSONB NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT,
    "html" TEXT,
    "attachments" JSONB NOT NULL,
    "headers" JSONB NOT NULL,
    "tags" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "send_at" TIMESTAMPTZ(3),
    "idempotency_key" TEXT,
    "rounds" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "provider" TEXT,
    "provider_message_id" TEXT,
    "last_error_code" TEXT,
    "last_error" JSONB,
    "held_provider" TEXT,
    "held_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_recipient" (
    "id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT NOT NULL,

    CONSTRAINT "message_recipient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_tag" (
    "message_id" TEXT NOT NULL,
    "tag" TEXT NOT NULL,

    CONSTRAINT "message_tag_pkey" PRIMARY KEY ("message_id","tag")
);

-- CreateTable
CREATE TABLE "attempt" (
    "id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "worker" TEXT,
    "provider" TEXT NOT NULL,
    "provider_type" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
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

    CONSTRAINT "attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_transition" (
    "id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "message_transition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "message_id" TEXT,
    "attempt_id" TEXT,
    "payload" JSONB NOT NULL,

    CONSTRAINT "event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppression" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL DEFAULT 'default',
    "address" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "suppression_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_override" (
    "provider" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "note" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "provider_override_pkey" PRIMARY KEY ("provider")
);

-- CreateTable
CREATE TABLE "api_key" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL DEFAULT 'default',
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "message_status_created_at_idx" ON "message"("status", "created_at");

-- CreateIndex
CREATE INDEX "message_status_next_attempt_at_idx" ON "message"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "message_provider_message_id_idx" ON "message"("provider_message_id");

-- CreateIndex
CREATE INDEX "message_tenant_id_created_at_idx" ON "message"("tenant_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "message_tenant_id_idempotency_key_key" ON "message"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "message_recipient_address_idx" ON "message_recipient"("address");

-- CreateIndex
CREATE INDEX "message_recipient_message_id_idx" ON "message_recipient"("message_id");

-- CreateIndex
CREATE INDEX "message_tag_tag_idx" ON "message_tag"("tag");

-- CreateIndex
CREATE INDEX "attempt_message_id_idx" ON "attempt"("message_id");

-- CreateIndex
CREATE INDEX "attempt_provider_started_at_idx" ON "attempt"("provider", "started_at");

-- CreateIndex
CREATE INDEX "attempt_provider_message_id_idx" ON "attempt"("provider_message_id");

-- CreateIndex
CREATE INDEX "message_transition_message_id_at_idx" ON "message_transition"("message_id", "at");

-- CreateIndex
CREATE INDEX "event_message_id_idx" ON "event"("message_id");

-- CreateIndex
CREATE UNIQUE INDEX "event_provider_provider_event_id_key" ON "event"("provider", "provider_event_id");

-- CreateIndex
CREATE UNIQUE INDEX "suppression_tenant_id_address_key" ON "suppression"("tenant_id", "address");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_hash_key" ON "api_key"("hash");

-- AddForeignKey
ALTER TABLE "message_recipient" ADD CONSTRAINT "message_recipient_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message_tag" ADD CONSTRAINT "message_tag_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempt" ADD CONSTRAINT "attempt_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message_transition" ADD CONSTRAINT "message_transition_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event" ADD CONSTRAINT "event_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event" ADD CONSTRAINT "event_attempt_id_fkey" FOREIGN KEY ("attempt_id") REFERENCES "attempt"("id") ON DELETE SET NULL ON UPDATE CASCADE;
