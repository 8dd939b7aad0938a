import type { MessageContent } from '@mailroute/core';
import { createStore, type MailStore } from '@mailroute/store';
import { type BenchDatabase, type BenchDialect, bookingMail, postgresUnavailable, withDatabase } from './databases.js';
import { fmt, printTable } from './measure.js';
import { type RawWriter, rawPostgresWriter, rawSqliteWriter } from './raw-inserts.js';

/**
 * Durable enqueue rate through the store API, on SQLite and PostgreSQL: single `enqueue`
 * calls from many concurrent callers (each awaits its acknowledgement, which comes only
 * after the commit), and `enqueueMany` batches of 100. Baseline in the same run: the same
 * rows written directly with better-sqlite3 / pg, one transaction per message (what group
 * commit must beat) and 100 per transaction. Each case runs on a fresh database.
 * Goals (SQLite, this 2-core machine): >= 5,000 single enqueues/s, >= 30,000 messages/s in batches.
 */

const SINGLE_MESSAGES = 20_000;
const BATCH_MESSAGES = 50_000;
const RAW_SINGLE_MESSAGES = 10_000;
const BATCH_SIZE = 100;
const CALLERS = [50, 200] as const;
const WARM_UP = 1_000;

export interface EnqueueCase {
  readonly database: BenchDialect;
  readonly path: string;
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Messages per transaction (store cases). */
  readonly groupSize?: number;
}

let mailIndex = 0;
const nextMail = (): MessageContent => {
  mailIndex += 1;
  return bookingMail(mailIndex);
};
const nextBatch = (size: number) => Array.from({ length: size }, nextMail);

/** `callers` concurrent loops, each awaiting `op` before its next call, until `total` calls are done. */
async function concurrently(total: number, callers: number, op: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const caller = async () => {
    while (started < total) {
      started += 1;
      await op();
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
}

async function timed(messages: number, work: () => Promise<void>): Promise<{ seconds: number; perSecond: number }> {
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: messages / seconds };
}

async function storeCase(
  dialect: BenchDialect,
  path: string,
  messages: number,
  load: (store: MailStore, count: number) => Promise<void>,
): Promise<EnqueueCase> {
  return withDatabase(dialect, async (database) => {
    const store = await createStore({ url: database.url, autoMigrate: false, listen: false });
    try {
      await load(store, WARM_UP);
      const before = store.stats().groupCommit;
      const { seconds, perSecond } = await timed(messages, () => load(store, messages));
      const after = store.stats().groupCommit;
      const groupSize = (after.messages - before.messages) / (after.transactions - before.transactions);
      return { database: dialect, path, messages, seconds, perSecond, groupSize };
    } finally {
      await store.close();
    }
  });
}

async function rawCase(
  dialect: BenchDialect,
  path: string,
  messages: number,
  load: (writer: RawWriter, count: number) => Promise<void>,
): Promise<EnqueueCase> {
  return withDatabase(dialect, async (database: BenchDatabase) => {
    const writer = dialect === 'sqlite' ? rawSqliteWriter(database.file ?? '') : rawPostgresWriter(database.url);
    try {
      await load(writer, WARM_UP);
      return { database: dialect, path, messages, ...(await timed(messages, () => load(writer, messages))) };
    } finally {
      await writer.close();
    }
  });
}

async function casesFor(dialect: BenchDialect): Promise<EnqueueCase[]> {
  const cases: EnqueueCase[] = [];
  for (const callers of CALLERS) {
    cases.push(
      await storeCase(dialect, `store.enqueue, ${callers} callers`, SINGLE_MESSAGES, (store, count) =>
        concurrently(count, callers, () => store.enqueue(nextMail())),
      ),
    );
  }
  cases.push(
    await storeCase(dialect, `store.enqueueMany(${BATCH_SIZE})`, BATCH_MESSAGES, (store, count) =>
      concurrently(count / BATCH_SIZE, 1, () => store.enqueueMany(nextBatch(BATCH_SIZE))),
    ),
  );
  // SQLite has one writer, so one synchronous caller is its best; pg gets as many callers as the store had.
  const rawCallers = dialect === 'sqlite' ? 1 : CALLERS[0];
  cases.push(
    await rawCase(dialect, `raw, 1 message/txn, ${rawCallers} caller${rawCallers > 1 ? 's' : ''}`, RAW_SINGLE_MESSAGES, (writer, count) =>
      concurrently(count, rawCallers, () => writer.insertOne(nextMail())),
    ),
  );
  cases.push(
    await rawCase(dialect, `raw, ${BATCH_SIZE} messages/txn`, BATCH_MESSAGES, (writer, count) =>
      concurrently(count / BATCH_SIZE, 1, () => writer.insertBatch(nextBatch(BATCH_SIZE))),
    ),
  );
  return cases;
}

export async function runStoreEnqueue(): Promise<EnqueueCase[]> {
  const cases = await casesFor('sqlite');
  const problem = await postgresUnavailable();
  if (problem) console.log(`PostgreSQL rows skipped: ${problem}`);
  else cases.push(...(await casesFor('postgres')));

  const rate = (dialect: BenchDialect, path: string) =>
    cases.find((entry) => entry.database === dialect && entry.path.startsWith(path))?.perSecond ?? Number.NaN;
  printTable(
    'Durable enqueue (acknowledged after commit; SQLite WAL synchronous=FULL)',
    cases.map((entry) => ({
      database: entry.database,
      path: entry.path,
      messages: entry.messages,
      seconds: fmt(entry.seconds),
      'messages/s': Math.round(entry.perSecond),
      'x raw 1/txn': fmt(entry.perSecond / rate(entry.database, 'raw, 1 ')),
      [`x raw ${BATCH_SIZE}/txn`]: fmt(entry.perSecond / rate(entry.database, `raw, ${BATCH_SIZE} `)),
      'messages/txn': entry.groupSize === undefined ? '' : fmt(entry.groupSize, 1),
    })),
  );
  const singles = Math.min(...CALLERS.map((callers) => rate('sqlite', `store.enqueue, ${callers} `)));
  console.log(`SQLite single enqueues: ${Math.round(singles)}/s at worst (goal >= 5,000/s)`);
  console.log(`SQLite enqueueMany(${BATCH_SIZE}): ${Math.round(rate('sqlite', 'store.enqueueMany'))} messages/s (goal >= 30,000/s)`);
  return cases;
}

if (import.meta.url === `file://${process.argv[1]}`) await runStoreEnqueue();
