-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_message_recipient" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "message_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    CONSTRAINT "message_recipient_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
-- The old text ids do not fit an INTEGER key: rows get new ids, in the order of the old ones
-- (time-ordered UUIDv7), so a timeline still lists same-millisecond steps in the order they happened.
INSERT INTO "new_message_recipient" ("address", "kind", "message_id") SELECT "address", "kind", "message_id" FROM "message_recipient" ORDER BY "id";
DROP TABLE "message_recipient";
ALTER TABLE "new_message_recipient" RENAME TO "message_recipient";
CREATE INDEX "message_recipient_address_idx" ON "message_recipient"("address");
CREATE INDEX "message_recipient_message_id_idx" ON "message_recipient"("message_id");
CREATE TABLE "new_message_transition" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "message_id" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "reason" TEXT NOT NULL,
    CONSTRAINT "message_transition_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_message_transition" ("at", "from_status", "message_id", "reason", "to_status") SELECT "at", "from_status", "message_id", "reason", "to_status" FROM "message_transition" ORDER BY "id";
DROP TABLE "message_transition";
ALTER TABLE "new_message_transition" RENAME TO "message_transition";
CREATE INDEX "message_transition_message_id_at_idx" ON "message_transition"("message_id", "at");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
