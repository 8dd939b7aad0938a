-- CreateTable
CREATE TABLE "dashboard_session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "key_id" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "expires_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "provider_audit" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "provider" TEXT NOT NULL,
    "key_id" TEXT,
    "key_name" TEXT,
    "at" DATETIME NOT NULL,
    "note" TEXT,
    "before_state" TEXT NOT NULL,
    "before_note" TEXT,
    "after_state" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "breaker_event" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "process" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "from_state" TEXT,
    "to_state" TEXT NOT NULL,
    "at" DATETIME NOT NULL
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
