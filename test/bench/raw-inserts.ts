import type { MessageContent } from '@mailroute/core';
import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * The baseline the store's enqueue is measured against: the same rows (message, its
 * recipients, its first transition) written straight through better-sqlite3 or pg, with
 * the pragmas the store sets on its own connection. Nothing here is product code.
 */

const MESSAGE_COLUMNS = [
  'id',
  'tenant_id',
  'status',
  'from_address',
  'to_addresses',
  'cc_addresses',
  'bcc_addresses',
  'reply_to_addresses',
  'subject',
  'text',
  'html',
  'attachments',
  'headers',
  'tags',
  'metadata',
  'next_attempt_at',
  'created_at',
  'updated_at',
];
const RECIPIENT_COLUMNS = ['message_id', 'kind', 'address'];
const TRANSITION_COLUMNS = ['message_id', 'from_status', 'to_status', 'at', 'reason'];

interface Rows {
  readonly message: unknown[];
  readonly recipients: unknown[][];
  readonly transition: unknown[];
}

// Time-ordered keys like the store's UUIDv7s, so the primary key index appends in both.
const prefix = Date.now().toString(36);
let sequence = 0;
const nextId = () => {
  sequence += 1;
  return `${prefix}-${String(sequence).padStart(10, '0')}`;
};

function rowsOf(content: MessageContent): Rows {
  const id = nextId();
  const now = new Date().toISOString();
  const message = [
    id,
    'default',
    'queued',
    JSON.stringify(content.from),
    JSON.stringify(content.to),
    JSON.stringify(content.cc),
    JSON.stringify(content.bcc),
    JSON.stringify(content.replyTo),
    content.subject,
    content.text ?? null,
    content.html ?? null,
    JSON.stringify(content.attachments),
    JSON.stringify(content.headers),
    JSON.stringify(content.tags),
    JSON.stringify(content.metadata),
    now,
    now,
    now,
  ];
  const recipients = [...content.to.map((a) => ['to', a]), ...content.cc.map((a) => ['cc', a]), ...content.bcc.map((a) => ['bcc', a])].map(
    ([kind, address]) => [id, kind, (address as { email: string }).email.toLowerCase()],
  );
  return { message, recipients, transition: [id, null, 'queued', now, 'accepted'] };
}

const insertSql = (table: string, columns: readonly string[], rows: number, mark: (index: number) => string) => {
  let index = 0;
  const values = Array.from({ length: rows }, () => `(${columns.map(() => mark(++index)).join(', ')})`).join(', ');
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`;
};

export interface RawWriter {
  /** One message in one transaction of its own. */
  insertOne(content: MessageContent): Promise<void>;
  /** Many messages in one transaction. */
  insertBatch(contents: readonly MessageContent[]): Promise<void>;
  close(): Promise<void>;
}

/** better-sqlite3 with the store's pragmas (WAL, synchronous=FULL, foreign keys) and prepared statements. */
export function rawSqliteWriter(file: string): RawWriter {
  const db = new Database(file, { timeout: 5_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const mark = () => '?';
  const message = db.prepare(insertSql('message', MESSAGE_COLUMNS, 1, mark));
  const recipient = db.prepare(insertSql('message_recipient', RECIPIENT_COLUMNS, 1, mark));
  const transition = db.prepare(insertSql('message_transition', TRANSITION_COLUMNS, 1, mark));
  const write = (content: MessageContent) => {
    const rows = rowsOf(content);
    message.run(rows.message);
    for (const row of rows.recipients) recipient.run(row);
    transition.run(rows.transition);
  };
  const one = db.transaction(write);
  const many = db.transaction((contents: readonly MessageContent[]) => {
    for (const content of contents) write(content);
  });
  return {
    insertOne: async (content) => {
      one(content);
    },
    insertBatch: async (contents) => {
      many(contents);
    },
    close: async () => {
      db.close();
    },
  };
}

/**
 * pg with a pool as large as the store's (10). One message is one statement (data-modifying
 * CTEs), so its own transaction costs a single round trip: the strongest per-row baseline.
 */
export function rawPostgresWriter(url: string, poolSize = 10): RawWriter {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: '-c TimeZone=UTC' });
  // pool.end() resolves before its sockets have closed; the database is dropped WITH (FORCE)
  // right after, and a closing connection told so must not crash the run as an unhandled error.
  pool.on('error', () => {});
  const mark = (index: number) => `$${index}`;
  const messageWidth = MESSAGE_COLUMNS.length;
  return {
    async insertOne(content) {
      const rows = rowsOf(content);
      const [recipient] = rows.recipients;
      if (!recipient || rows.recipients.length !== 1) throw new Error('the baseline writes messages with one recipient');
      const r = (offset: number) => (index: number) => `$${offset + index}`;
      const sql = `WITH m AS (${insertSql('message', MESSAGE_COLUMNS, 1, mark)}),
        r AS (${insertSql('message_recipient', RECIPIENT_COLUMNS, 1, r(messageWidth))})
        ${insertSql('message_transition', TRANSITION_COLUMNS, 1, r(messageWidth + RECIPIENT_COLUMNS.length))}`;
      await pool.query(sql, [...rows.message, ...recipient, ...rows.transition]);
    },
    async insertBatch(contents) {
      const rows = contents.map(rowsOf);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          insertSql('message', MESSAGE_COLUMNS, rows.length, mark),
          rows.flatMap((row) => row.message),
        );
        const recipients = rows.flatMap((row) => row.recipients);
        await client.query(insertSql('message_recipient', RECIPIENT_COLUMNS, recipients.length, mark), recipients.flat());
        await client.query(
          insertSql('message_transition', TRANSITION_COLUMNS, rows.length, mark),
          rows.flatMap((row) => row.transition),
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
