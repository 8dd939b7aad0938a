-- CreateTable
CREATE TABLE "tenant_sender" (
    "tenant_id" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,

    PRIMARY KEY ("tenant_id", "sender")
);

-- Upgrade rule for keys: an `admin` key of the default tenant was the administrator of the
-- whole service before the `operator` scope existed, and it becomes an operator too, so an
-- upgraded single-tenant install keeps its provider actions, alerts and key management.
UPDATE "api_key" SET "scopes" = json_insert("scopes", '$[#]', 'operator')
WHERE "tenant_id" = 'default'
  AND EXISTS (SELECT 1 FROM json_each("api_key"."scopes") WHERE "value" = 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each("api_key"."scopes") WHERE "value" = 'operator');

-- A tenant other than the default one without senders may send from none, so each keeps the
-- domains it has sent from and its mail is not refused on the first send after the upgrade.
INSERT INTO "tenant_sender" ("tenant_id", "sender", "created_at")
SELECT DISTINCT "tenant_id", lower(substr(json_extract("from_address", '$.email'), instr(json_extract("from_address", '$.email'), '@') + 1)),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
FROM "message"
WHERE "tenant_id" <> 'default' AND instr(json_extract("from_address", '$.email'), '@') > 0;
