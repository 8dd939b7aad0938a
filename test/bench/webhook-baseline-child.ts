import { createPublicKey, randomUUID, verify } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

/**
 * The same-run baseline of `webhook-ingest.ts`, in a process of its own: bare Fastify taking
 * the raw body, verifying SendGrid's ECDSA signature over timestamp + body with the same key,
 * and inserting every event raw (INSERT OR IGNORE on provider + event id) in one better-sqlite3
 * transaction per post (WAL, synchronous=FULL): no correlation, no status change, no
 * suppression, no validation beyond JSON. argv[2]: database file; argv[3]: base64 public key.
 * Prints the webhook URL as one JSON line when listening.
 */

const [file, publicKeyBase64] = process.argv.slice(2);
if (!file || !publicKeyBase64) throw new Error('usage: webhook-baseline-child.ts DATABASE_FILE PUBLIC_KEY');
const publicKey = createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE event (
  id TEXT PRIMARY KEY, provider TEXT NOT NULL, provider_event_id TEXT NOT NULL, type TEXT NOT NULL,
  occurred_at INTEGER NOT NULL, recipient TEXT, message_id TEXT, payload TEXT NOT NULL,
  UNIQUE (provider, provider_event_id))`);
const insert = db.prepare('INSERT OR IGNORE INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?)');

type RawEvent = { sg_event_id: string; event: string; timestamp: number; email?: string; mailroute_id?: string };
const storeAll = db.transaction((events: readonly RawEvent[]) => {
  for (const event of events) {
    insert.run(
      randomUUID(),
      'sendgrid',
      event.sg_event_id,
      event.event,
      event.timestamp * 1000,
      event.email ?? null,
      event.mailroute_id ?? null,
      JSON.stringify(event),
    );
  }
});

const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post<{ Body: Buffer }>('/webhooks/sendgrid', async (request, reply) => {
  const timestamp = String(request.headers['x-twilio-email-event-webhook-timestamp'] ?? '');
  const signature = Buffer.from(String(request.headers['x-twilio-email-event-webhook-signature'] ?? ''), 'base64');
  if (!verify('sha256', Buffer.concat([Buffer.from(timestamp), request.body]), publicKey, signature))
    return reply.code(401).send({ ok: false });
  const events = JSON.parse(request.body.toString('utf8')) as RawEvent[];
  storeAll(events);
  return { received: events.length };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url: `${url}/webhooks/sendgrid` }));

const shutdown = async () => {
  await app.close();
  db.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
