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
  /** CPU time of this process (user + system) per message: steadier than rates on a shared machine. */
  readonly cpuMicrosPerMessage: number;
  /** Messages per transaction (store cases). */
  readonly groupSize?: number;
}

/** One benchmark load: `callers` concurrent loops, each call carrying `batch` messages. */
interface Load {
  readonly callers: number;
  readonly batch: number;
  readonly messages: number;
}

let mailIndex = 0;

/** Validated mail for every call, built before the clock starts. */
function callsOf(load: Load, messages: number): MessageContent[][] {
  return Array.from({ length: Math.ceil(messages / load.batch) }, () =>
    Array.from({ length: load.batch }, () => {
      mailIndex += 1;
      return bookingMail(mailIndex);
    }),
  );
}

/** Each caller awaits its call (the acknowledgement) before making the next one. */
async function drive(calls: readonly MessageContent[][], callers: number, call: (contents: MessageContent[]) => Promise<unknown>) {
  let next = 0;
  const caller = async () => {
    for (let contents = calls[next++]; contents; contents = calls[next++]) await call(contents);
  };
  await Promise.all(Array.from({ length: callers }, caller));
}

/** Warms up, then times `load.messages` messages. */
async function timed(load: Load, call: (contents: MessageContent[]) => Promise<unknown>) {
  await drive(callsOf(load, WARM_UP), load.callers, call);
  const calls = callsOf(load, load.messages);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await drive(calls, load.callers, call);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    messages: load.messages,
    seconds,
    perSecond: load.messages / seconds,
    cpuMicrosPerMessage: (used.user + used.system) / load.messages,
  };
}

const storeCall = (store: MailStore) => (contents: MessageContent[]) =>
  contents.length === 1 && contents[0] ? store.enqueue(contents[0]) : store.enqueueMany(contents);

const rawCall = (writer: RawWriter) => (contents: MessageContent[]) =>
  contents.length === 1 && contents[0] ? writer.insertOne(contents[0]) : writer.insertBatch(contents);

const callersOf = (load: Load) => `${load.callers} caller${load.callers > 1 ? 's' : ''}`;

async function storeCase(dialect: BenchDialect, load: Load): Promise<EnqueueCase> {
  return withDatabase(dialect, async (database) => {
    const store = await createStore({ url: database.url, autoMigrate: false, listen: false });
    try {
      const before = store.stats().groupCommit;
      const result = await timed(load, storeCall(store));
      const after = store.stats().groupCommit;
      // Warm-up included: the average is what group commit made of this load.
      const groupSize = (after.messages - before.messages) / (after.transactions - before.transactions);
      const path = load.batch === 1 ? 'store.enqueue' : `store.enqueueMany(${load.batch})`;
      return { database: dialect, path: `${path}, ${callersOf(load)}`, groupSize, ...result };
    } finally {
      await store.close();
    }
  });
}

async function rawCase(dialect: BenchDialect, load: Load): Promise<EnqueueCase> {
  return withDatabase(dialect, async (database: BenchDatabase) => {
    const writer = dialect === 'sqlite' ? rawSqliteWriter(database.file ?? '') : rawPostgresWriter(database.url);
    try {
      const path = load.batch === 1 ? 'raw, 1 message/txn' : `raw, ${load.batch} messages/txn`;
      return { database: dialect, path: `${path}, ${callersOf(load)}`, ...(await timed(load, rawCall(writer))) };
    } finally {
      await writer.close();
    }
  });
}

async function casesFor(dialect: BenchDialect): Promise<EnqueueCase[]> {
  const cases: EnqueueCase[] = [];
  for (const callers of CALLERS) cases.push(await storeCase(dialect, { callers, batch: 1, messages: SINGLE_MESSAGES }));
  cases.push(await storeCase(dialect, { callers: 1, batch: BATCH_SIZE, messages: BATCH_MESSAGES }));
  // SQLite has one writer, so one synchronous caller is its best; pg gets as many callers as the store had.
  const rawCallers = dialect === 'sqlite' ? 1 : CALLERS[0];
  cases.push(await rawCase(dialect, { callers: rawCallers, batch: 1, messages: RAW_SINGLE_MESSAGES }));
  cases.push(await rawCase(dialect, { callers: 1, batch: BATCH_SIZE, messages: BATCH_MESSAGES }));
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
      'CPU µs/message': fmt(entry.cpuMicrosPerMessage, 1),
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
