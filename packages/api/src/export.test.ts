import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { exportColumns, exportCsv, neutraliseFormula } from './export-format.js';
import { apiClient, failure } from './test/client.js';
import { mail, work } from './test/fixtures.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

const client = (who: keyof TestApi['keys']) => apiClient(api.url, api.keys[who].key);

/** Subjects that break naive CSV: commas, quotes, a leading quote, a semicolon, non-ASCII. */
const subjects = ['Booking 7, sea view', 'Your "deluxe" room', '"Quoted" start; then more', 'Reservierung für Zimmer 12'];

test('mail.export pages CSV that a CSV parser reads back exactly, for the key tenant only', async () => {
  const sends = [];
  for (const subject of subjects) {
    sends.push(await client('hotelSend').mail.send.mutate(mail({ subject, to: ['guest@example.org', 'second@example.org'], tags: ['x'] })));
  }
  await client('spaSend').mail.send.mutate(mail({ subject: 'spa mail' }));
  await work(api.store, {
    [sends[0]?.id ?? '']: 'dead',
    [sends[1]?.id ?? '']: 'dead',
    [sends[2]?.id ?? '']: 'sent',
    [sends[3]?.id ?? '']: 'failed',
  });

  const read = client('hotelRead');
  let csv = '';
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await read.mail.export.query({ format: 'csv', limit: 3, ...(cursor ? { cursor } : {}) });
    if (page.format !== 'csv') throw new Error('asked for csv');
    csv += page.csv;
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  expect(pages).toBe(2);

  const records: Record<string, string>[] = parse(csv, { columns: true });
  expect(Object.keys(records[0] ?? {})).toEqual([...exportColumns]);
  expect(records.map((record) => record.subject).sort()).toEqual([...subjects].sort());
  const byId = new Map(records.map((record) => [record.id, record]));
  expect(byId.get(sends[0]?.id ?? '')).toMatchObject({
    tenant: 'hotel',
    status: 'dead',
    to: 'guest@example.org; second@example.org',
    attempts: '0',
    last_error_code: 'NO_PROVIDER',
    last_error: 'every provider failed',
    sent_at: '',
  });
  expect(byId.get(sends[2]?.id ?? '')).toMatchObject({
    status: 'sent',
    provider: 'ses',
    provider_message_id: `ses-${sends[2]?.id}`,
    attempts: '2',
  });
  expect(Date.parse(byId.get(sends[2]?.id ?? '')?.sent_at ?? '')).toBeGreaterThan(0);

  // The same filter as mail.list; JSON keeps arrays and epoch times.
  const dead = await read.mail.export.query({ format: 'json', status: 'dead' });
  if (dead.format !== 'json') throw new Error('asked for json');
  expect(dead.rows.map((row) => row.id).sort()).toEqual([sends[0]?.id, sends[1]?.id].sort());
  expect(dead.rows[0]).toMatchObject({ tenantId: 'hotel', to: ['guest@example.org', 'second@example.org'], createdAt: expect.any(Number) });
  expect(dead).not.toHaveProperty('nextCursor');

  const empty = await read.mail.export.query({ status: 'bounced' });
  expect(empty).toEqual({ format: 'csv', csv: `${exportColumns.join(',')}\r\n`, count: 0 });
  expect(await failure(read.mail.export.query({ format: 'xml' as 'csv' }))).toMatchObject({ code: 'INVALID_INPUT' });
  expect(await failure(read.mail.export.query({ limit: 100_000 }))).toMatchObject({ code: 'INVALID_INPUT' });
});

test('CSV cells with commas, quotes and line breaks read back exactly', () => {
  const row = {
    id: 'm1',
    tenantId: 'hotel',
    status: 'dead',
    to: ['a@example.org', 'b@example.org'],
    cc: [],
    bcc: ['audit@hotel.example'],
    subject: '"Hello", she said, "room 7"',
    attempts: 3,
    possibleDuplicate: false,
    lastErrorCode: 'CONTENT_REJECTED',
    lastError: '554 5.7.1 Message rejected,\r\n  see "policy"\nline three',
    createdAt: Date.UTC(2030, 0, 1),
  };
  const [header, ...rest] = parse(exportCsv([row], true) + exportCsv([{ ...row, id: 'm2' }], false)) as string[][];
  expect(header).toEqual([...exportColumns]);
  expect(rest.map((cells) => cells[0])).toEqual(['m1', 'm2']);
  const record = Object.fromEntries(exportColumns.map((column, index) => [column, rest[0]?.[index]]));
  expect(record).toMatchObject({
    subject: row.subject,
    last_error: row.lastError,
    bcc: 'audit@hotel.example',
    cc: '',
    created_at: '2030-01-01T00:00:00.000Z',
  });
});

test('CSV cells a spreadsheet would run as formulas start with a single quote; JSON keeps them as sent', async () => {
  const formulas = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2+3', '@SUM(A1)', '\tTabbed'];
  for (const subject of formulas) await client('hotelSend').mail.send.mutate(mail({ subject }));
  await client('hotelSend').mail.send.mutate(mail({ subject: 'Plain = fine' }));
  const page = await client('hotelRead').mail.export.query({ format: 'csv', limit: 100 });
  if (page.format !== 'csv') throw new Error('asked for csv');
  const records: Record<string, string>[] = parse(page.csv, { columns: true });
  expect(records.map((record) => record.subject).sort()).toEqual([...formulas.map((subject) => `'${subject}`), 'Plain = fine'].sort());
  const json = await client('hotelRead').mail.export.query({ format: 'json', limit: 100 });
  if (json.format !== 'json') throw new Error('asked for json');
  expect(json.rows.map((row) => row.subject).sort()).toEqual([...formulas, 'Plain = fine'].sort());
  // A subject cannot hold a carriage return (header injection), a provider's error text can.
  expect(neutraliseFormula('\rReturn')).toBe("'\rReturn");
  expect(neutraliseFormula('Booking = confirmed')).toBe('Booking = confirmed');
});

test('a worker that died mid-send: mail.get shows the attempt with an unknown outcome, mail.export marks a possible duplicate', async () => {
  const crashed = await client('hotelSend').mail.send.mutate(mail());
  const normal = await client('hotelSend').mail.send.mutate(mail());
  // A worker claims only the first, then dies: its lease runs out with nothing recorded.
  expect(await api.store.claim('worker-that-died', 1, 20)).toHaveLength(1);
  await new Promise((resolve) => setTimeout(resolve, 40));
  expect(await api.store.recoverExpiredLeases()).toBe(1);

  const detail = await client('hotelRead').mail.get.query({ id: crashed.id });
  expect(detail.attempts).toHaveLength(1);
  expect(detail.attempts[0]).toMatchObject({ outcome: 'unknown', worker: 'worker-that-died' });
  expect(detail.attempts[0]?.provider).toBeUndefined();
  const entry = detail.timeline.find((item) => item.kind === 'attempt');
  expect(entry).toMatchObject({ kind: 'attempt', attemptId: detail.attempts[0]?.id });
  expect(entry && 'provider' in entry).toBe(false);
  expect(entry && 'summary' in entry ? entry.summary : '').toMatch(
    /^outcome unknown \(possible duplicate\): worker-that-died stopped while it held the message .*the provider may have accepted it/,
  );

  const page = await client('hotelRead').mail.export.query({ format: 'csv' });
  if (page.format !== 'csv') throw new Error('asked for csv');
  const records: Record<string, string>[] = parse(page.csv, { columns: true });
  const byId = new Map(records.map((record) => [record.id, record]));
  expect(byId.get(crashed.id)).toMatchObject({ possible_duplicate: 'true', attempts: '1' });
  expect(byId.get(normal.id)).toMatchObject({ possible_duplicate: 'false', attempts: '0' });
  const json = await client('hotelRead').mail.export.query({ format: 'json' });
  if (json.format !== 'json') throw new Error('asked for json');
  expect(Object.fromEntries(json.rows.map((row) => [row.id, row.possibleDuplicate]))).toEqual({ [crashed.id]: true, [normal.id]: false });
});
