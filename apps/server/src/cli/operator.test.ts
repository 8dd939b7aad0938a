import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import { mailError, parseMessage } from '@mailroute/core';
import { createSqliteFile } from '@mailroute/store/testing';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './main.js';

let api: TestApi;
let dir: { url: string; drop: () => Promise<void> };
beforeEach(async () => {
  api = await startTestApi();
  dir = createSqliteFile();
});
afterEach(async () => {
  await api.close();
  await dir.drop();
});

async function cli(args: readonly string[], key: keyof TestApi['keys'] = 'hotelAdmin') {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(args, {
    env: { MAILROUTE_URL: api.url, MAILROUTE_API_KEY: api.keys[key].key },
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
  });
  return { code, stdout, stderr };
}

async function storeMail(count: number, subject: (index: number) => string, to = (index: number) => `guest${index}@example.org`) {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const parsed = parseMessage({ from: 'desk@hotel.example', to: [to(index)], subject: subject(index), text: 'x' });
    if (!parsed.ok) throw new Error(parsed.error.message);
    ids.push((await api.store.enqueue(parsed.value, { tenantId: 'hotel' })).id);
  }
  return ids;
}

async function killAll(): Promise<void> {
  const claimed = await api.store.claim('test-worker', 1000, 60_000);
  await api.store.complete(
    'test-worker',
    claimed.map(({ message }) => ({
      kind: 'dead' as const,
      id: message.id,
      reason: 'max_age' as const,
      error: mailError('NO_PROVIDER', 'every provider failed; last: 503 "busy",\ntry later'),
      attempts: [],
    })),
  );
}

describe('mailroute providers <action>', () => {
  it('stores each state with its note; a wrong action, name or provider is a usage error', async () => {
    const refused = await cli(['providers', 'force-open', 'sendgrid'], 'hotelAdmin');
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/FORBIDDEN: .*lacks the operator scope/) });
    expect(await api.store.listProviderStates()).toEqual([]);
    const forced = await cli(['providers', 'force-open', 'sendgrid', '--note', 'status page: outage'], 'operator');
    expect(forced).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sendgrid is now forced_open \(status page: outage\)/) });
    expect(await api.store.listProviderStates()).toMatchObject([
      { provider: 'sendgrid', state: 'forced_open', note: 'status page: outage' },
    ]);
    for (const [action, state] of [
      ['drain', 'drained'],
      ['disable', 'disabled'],
      ['enable', 'enabled'],
    ] as const) {
      expect((await cli(['providers', action, 'ses'], 'operator')).code).toBe(0);
      expect((await api.store.listProviderStates()).find((record) => record.provider === 'ses')?.state).toBe(state);
    }

    expect(await cli(['providers', 'drain'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: mailroute providers drain NAME'),
    });
    expect(await cli(['providers', 'pause', 'ses'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown providers action "pause"'),
    });
    expect(await cli(['providers', 'drain', 'mailgun'], 'operator')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown provider mailgun'),
    });
    expect(await cli(['providers', 'drain', 'ses'], 'hotelRead')).toMatchObject({ code: 1, stderr: expect.stringContaining('FORBIDDEN') });
  });
});

describe('mailroute retry --dry-run', () => {
  it('says what it would requeue and lists what it keeps back and why', async () => {
    const ids = await storeMail(3, (index) => `Booking ${index}`);
    await killAll();
    await api.store.addSuppression({ address: 'guest1@example.org', reason: 'hard bounce', source: 'test', tenantId: 'hotel' });
    const dry = await cli(['retry', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      `3 matching message(s): 2 to requeue; kept back: 1 a recipient is suppressed\n  kept back ${ids[1]}: a recipient is suppressed (guest1@example.org)\n`,
    );
    expect((await api.store.countByStatus()).dead).toBe(3);
  });
});

describe('mailroute export', () => {
  it('writes every matching message as CSV a page at a time, reporting progress on stderr', async () => {
    const ids = await storeMail(7, (index) => `Booking ${index}, "sea view"`);
    await killAll();
    await storeMail(2, () => 'still queued');
    const file = join(dir.url.replace(/^file:/, ''), '..', 'dead.csv');
    const result = await cli(['export', '--status', 'dead', '--output', file, '--page-size', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`exported 3 message(s) so far\nexported 6 message(s) so far\nexported 7 message(s) to ${file}\n`);
    const records: Record<string, string>[] = parse(readFileSync(file), { columns: true });
    expect(records.map((record) => record.id).sort()).toEqual([...ids].sort());
    expect(records[0]).toMatchObject({ status: 'dead', last_error: 'every provider failed; last: 503 "busy",\ntry later' });
    expect(records.map((record) => record.subject)).toContain('Booking 3, "sea view"');
  });

  it('writes JSON to stdout, takes the list filter, and refuses what it cannot do', async () => {
    const [first] = await storeMail(2, (index) => `Booking ${index}`);
    const json = await cli(['export', '--recipient', 'GUEST0@example.org', '--format', 'json'], 'hotelRead');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: first, status: 'queued', to: ['guest0@example.org'] })]);
    const none = await cli(['export', '--status', 'bounced', '--format', 'json']);
    expect(JSON.parse(none.stdout)).toEqual([]);
    expect(await cli(['export', '--format', 'xml'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--format takes csv or json'),
    });
    expect(await cli(['export', '--status', 'lost'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--status takes') });
    expect(await cli(['export', '--since', 'yesterday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--since takes a date-time'),
    });
  });
});
