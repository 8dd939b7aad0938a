-- CreateTable
CREATE TABLE "dashboard_session" (
    "id" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dashboard_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_audit" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "key_id" TEXT,
    "key_name" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "note" TEXT,
    "before_state" TEXT NOT NULL,
    "before_note" TEXT,
    "after_state" TEXT NOT NULL,

    CONSTRAINT "provider_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "breaker_event" (
    "id" SERIAL NOT NULL,
    "process" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "from_state" TEXT,
    "to_state" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "breaker_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "dashboard_session_key_id_idx" ON "dashboard_session"("key_id");

-- CreateIndex
CREATE INDEX "dashboard_session_expires_at_idx" ON "dashboard_session"("expires_at");

-- CreateIndex
CREATE INDEX "provider_audit_provider_at_idx" ON "provider_audit"("provider", "at");

-- CreateIndex
CREATE INDEX "provider_audit_at_idx" ON "provider_audit"("at");

-- CreateIndex
CREATE INDEX "breaker_event_at_idx" ON "breaker_event"("at");

-- CreateIndex
CREATE INDEX "message_tenant_id_status_created_at_idx" ON "message"("tenant_id", "status", "created_at");
