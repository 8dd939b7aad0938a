import { randomUUID } from 'node:crypto';
import { initTRPC } from '@trpc/server';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { z } from 'zod';

/**
 * The same-run baseline of `http-send.ts`, in a process of its own: bare Fastify + tRPC with
 * the same procedure paths as mailroute (`mail.send`, `mail.sendBatch`), so the very same typed
 * client drives it. Each call is one better-sqlite3 transaction (WAL, synchronous=FULL) of a
 * row about the size of a stored message: no group commit, no auth, no rate limit.
 * argv[2] is the database file, or `--no-database`: the same endpoint answering without
 * storing anything, the ceiling of any server on this stack on this machine.
 * Prints the URL as one JSON line when listening.
 */

const file = process.argv[2];
if (!file) throw new Error('usage: http-baseline-child.ts DATABASE_FILE | --no-database');
const db = file === '--no-database' ? undefined : new Database(file);
db?.pragma('journal_mode = WAL');
db?.pragma('synchronous = FULL');
db?.exec(`CREATE TABLE message (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL, recipient TEXT NOT NULL,
  subject TEXT NOT NULL, content TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
const insert = db?.prepare('INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?, ?)');

const address = z.union([z.string().min(3).max(320), z.strictObject({ email: z.string().min(3).max(320), name: z.string().optional() })]);
const message = z.strictObject({
  from: address,
  to: z.array(address).min(1).max(50),
  subject: z.string().max(998),
  text: z.string().optional(),
  html: z.string().optional(),
});
type Message = z.output<typeof message>;

const store = (messages: readonly Message[]) => {
  const now = Date.now();
  return messages.map((mail) => {
    const id = randomUUID();
    const first = mail.to[0];
    const recipient = typeof first === 'string' ? first : (first?.email ?? '');
    insert?.run(id, 'default', 'queued', recipient, mail.subject, JSON.stringify(mail), now, now);
    return { id, status: 'queued' };
  });
};
const storeAll = db ? db.transaction(store) : store;

const t = initTRPC.create();
const router = t.router({
  mail: t.router({
    send: t.procedure.input(message).mutation(({ input }) => storeAll([input])[0]),
    sendBatch: t.procedure
      .input(z.strictObject({ messages: z.array(message).min(1).max(1000) }))
      .mutation(({ input }) => storeAll(input.messages).map((stored) => ({ ok: true, ...stored }))),
  }),
});

const app = Fastify({ routerOptions: { maxParamLength: 1_000 } });
await app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions: { router } });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url }));

const shutdown = async () => {
  await app.close();
  db?.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
