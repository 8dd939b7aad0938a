import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MessageContent, parseMessage } from '@mailroute/core';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore, type MailStore } from '@mailroute/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type WorkerProcess, writeConfig } from '../support/worker-process.js';

/**
 * Durability under kill -9: a worker process dispatching 2,000 messages is killed with
 * SIGKILL at random moments and restarted. Every message must end up sent, and the only
 * duplicates allowed are sends that were in flight when a kill landed: accepted by the
 * provider, but not yet recorded as sent.
 */

const MESSAGES = 2_000;
const KILLS = 5;
const API_KEY = 'SG.crash-test.key';

let directory: string;
let sendgrid: SendGridStandIn;
let store: MailStore;
let worker: WorkerProcess | undefined;

function content(index: number): MessageContent {
  const parsed = parseMessage({
    from: 'desk@hotel.example',
    to: [`guest${index}@example.org`],
    subject: `Booking ${index} confirmed`,
    text: `Booking ${index}`,
  });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'mailroute-crash-'));
  sendgrid = await startSendGridStandIn({ apiKey: API_KEY, latencyMs: 25 });
  store = await createStore({ url: `file:${join(directory, 'mailroute.db')}`, autoMigrate: true });
});

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await store?.close();
  await sendgrid?.close();
  rmSync(directory, { recursive: true, force: true });
});

function acceptedIds(): string[] {
  return sendgrid.accepted.map((entry) => String(entry.body.custom_args?.mailroute_id));
}

describe('kill -9 of a worker mid-dispatch', () => {
  it('loses nothing and duplicates only what was in flight at each kill', async () => {
    for (let start = 0; start < MESSAGES; start += 500) {
      await store.enqueueMany(Array.from({ length: 500 }, (_, i) => content(start + i)));
    }
    const configPath = writeConfig(directory, {
      database: { url: `file:${join(directory, 'mailroute.db')}` },
      providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: API_KEY, baseUrl: sendgrid.url }],
      worker: { concurrency: 10, leaseMs: 1_500, idlePollMs: 200 },
    });

    const atRisk = new Set<string>();
    /** Every message a killed worker held: lease recovery must leave an `unknown` attempt on each. */
    const heldAtKill = new Set<string>();
    const killLog: { sentBefore: number; inFlight: number }[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      worker = spawnWorker(configPath);
      await worker.started;
      await sleep(200 + Math.random() * 600);
      await worker.kill('SIGKILL');
      // Requests that reached the stand-in before the kill finish its 25 ms latency first.
      await sleep(150);
      const counts = await store.countByStatus();
      const providerHas = new Set(acceptedIds());
      // Claimed when the worker died: those the provider already has will be sent again.
      const held = (await store.listMessages({ status: ['sending'] }, { limit: 500 })).items;
      for (const item of held) heldAtKill.add(item.id);
      const notRecorded = held.filter((item) => providerHas.has(item.id));
      for (const item of notRecorded) atRisk.add(item.id);
      killLog.push({ sentBefore: counts.sent, inFlight: notRecorded.length });
    }
    expect((await store.countByStatus()).sent).toBeLessThan(MESSAGES);

    worker = spawnWorker(configPath);
    await worker.started;
    const finalPhase = Date.now();
    const deadline = Date.now() + 60_000;
    while ((await store.countByStatus()).sent < MESSAGES) {
      if (Date.now() > deadline) throw new Error(`not all sent: ${JSON.stringify(await store.countByStatus())}`);
      await sleep(200);
    }
    const finalPhaseMs = Date.now() - finalPhase;
    await worker.kill('SIGTERM');

    const ids = acceptedIds();
    const unique = new Set(ids);
    const duplicates = ids.length - unique.size;
    const counts = await store.countByStatus();
    console.log(
      `kills: ${JSON.stringify(killLog)}; provider received ${ids.length}, duplicates ${duplicates}, last run ${finalPhaseMs} ms, bound ${atRisk.size}`,
    );

    expect(killLog.filter((entry) => entry.sentBefore > 0)).toHaveLength(KILLS);
    expect(counts.sent).toBe(MESSAGES);
    expect(unique.size).toBe(MESSAGES);
    expect(duplicates).toBeLessThanOrEqual(atRisk.size);
    for (const id of unique) if (ids.indexOf(id) !== ids.lastIndexOf(id)) expect(atRisk.has(id), `${id} was sent twice`).toBe(true);

    // The trace: every message received twice, and every one a killed worker held, has an attempt
    // with outcome unknown by the worker that died, and the export calls it a possible duplicate.
    const twice = [...unique].filter((id) => ids.indexOf(id) !== ids.lastIndexOf(id));
    expect(heldAtKill.size).toBeGreaterThan(0);
    const unknownBy = new Map<string, number>();
    for (const id of new Set([...heldAtKill, ...twice])) {
      const attempts = (await store.getMessage(id))?.attempts ?? [];
      unknownBy.set(id, attempts.filter((attempt) => attempt.outcome === 'unknown' && attempt.worker !== undefined).length);
    }
    for (const id of twice) expect(unknownBy.get(id), `${id} was received twice without an unknown attempt`).toBeGreaterThan(0);
    for (const id of heldAtKill) expect(unknownBy.get(id), `${id} was held by a killed worker without a trace`).toBeGreaterThan(0);
    const flagged = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.exportMessages({}, { limit: 5_000, ...(cursor ? { cursor } : {}) });
      for (const row of page.rows) if (row.possibleDuplicate) flagged.add(row.id);
      cursor = page.nextCursor;
    } while (cursor);
    for (const id of twice) expect(flagged.has(id), `${id} not flagged possible_duplicate`).toBe(true);
    console.log(
      `received twice: ${twice.length}; held by a killed worker: ${heldAtKill.size}; flagged possible duplicates: ${flagged.size}`,
    );
  }, 180_000);
});
