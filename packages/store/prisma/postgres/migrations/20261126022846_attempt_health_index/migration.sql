-- DropIndex
DROP INDEX "attempt_provider_started_at_idx";

-- CreateIndex
CREATE INDEX "attempt_provider_health_idx" ON "attempt"("provider", "started_at", "outcome", "error_category", "latency_ms");
