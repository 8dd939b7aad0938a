-- CreateTable
CREATE TABLE "tenant_sender" (
    "tenant_id" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tenant_sender_pkey" PRIMARY KEY ("tenant_id","sender")
);

-- Upgrade rule for keys: an `admin` key of the default tenant was the administrator of the
-- whole service before the `operator` scope existed, and it becomes an operator too, so an
-- upgraded single-tenant install keeps its provider actions, alerts and key management.
UPDATE "api_key" SET "scopes" = "scopes" || '["operator"]'::jsonb
WHERE "tenant_id" = 'default' AND "scopes" @> '["admin"]'::jsonb AND NOT ("scopes" @> '["operator"]'::jsonb);

-- A tenant other than the default one without senders may send from none, so each keeps the
-- domains it has sent from and its mail is not refused on the first send after the upgrade.
INSERT INTO "tenant_sender" ("tenant_id", "sender", "created_at")
SELECT DISTINCT "tenant_id", lower(split_part("from_address"->>'email', '@', 2)), now()
FROM "message"
WHERE "tenant_id" <> 'default' AND position('@' in "from_address"->>'email') > 0;
