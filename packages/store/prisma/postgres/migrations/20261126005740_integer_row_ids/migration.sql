-- Integer keys for the two tables that take several rows per message
-- Existing rows are numbered in the order of their old time-ordered ids, as in the SQLite migration
ALTER TABLE "message_recipient" DROP CONSTRAINT "message_recipient_pkey";
ALTER TABLE "message_recipient" RENAME COLUMN "id" TO "old_id";
ALTER TABLE "message_recipient" ADD COLUMN "id" BIGINT;
UPDATE "message_recipient" r SET "id" = o.n
FROM (SELECT "old_id", row_number() OVER (ORDER BY "old_id") AS n FROM "message_recipient") o
WHERE r."old_id" = o."old_id";
ALTER TABLE "message_recipient" DROP COLUMN "old_id";
CREATE SEQUENCE "message_recipient_id_seq" OWNED BY "message_recipient"."id";
SELECT setval('"message_recipient_id_seq"', COALESCE(MAX("id"), 0) + 1, false) FROM "message_recipient";
ALTER TABLE "message_recipient" ALTER COLUMN "id" SET DEFAULT nextval('"message_recipient_id_seq"'),
ALTER COLUMN "id" SET NOT NULL,
ADD CONSTRAINT "message_recipient_pkey" PRIMARY KEY ("id");

ALTER TABLE "message_transition" DROP CONSTRAINT "message_transition_pkey";
ALTER TABLE "message_transition" RENAME COLUMN "id" TO "old_id";
ALTER TABLE "message_transition" ADD COLUMN "id" BIGINT;
UPDATE "message_transition" t SET "id" = o.n
FROM (SELECT "old_id", row_number() OVER (ORDER BY "old_id") AS n FROM "message_transition") o
WHERE t."old_id" = o."old_id";
ALTER TABLE "message_transition" DROP COLUMN "old_id";
CREATE SEQUENCE "message_transition_id_seq" OWNED BY "message_transition"."id";
SELECT setval('"message_transition_id_seq"', COALESCE(MAX("id"), 0) + 1, false) FROM "message_transition";
ALTER TABLE "message_transition" ALTER COLUMN "id" SET DEFAULT nextval('"message_transition_id_seq"'),
ALTER COLUMN "id" SET NOT NULL,
ADD CONSTRAINT "message_transition_pkey" PRIMARY KEY ("id");
