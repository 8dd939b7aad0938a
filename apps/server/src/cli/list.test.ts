import { Writable } from 'node:stream';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import { parseMessage } from '@mailroute/core';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from './main.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

async function cli(args: readonly string[]) {
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
    env: { MAILROUTE_URL: api.url, MAILROUTE_API_KEY: api.keys.hotelRead.key },
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
  });
  return { code, stdout, stderr };
}

async function store(to: string, subject: string, tags: string[] = []): Promise<string> {
  const parsed = parseMessage({ from: 'desk@hotel.example', to: [to], subject, text: 'x', tags });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return (await api.store.enqueue(parsed.value, { tenantId: 'hotel' })).id;
}

it('mailroute list reads the same query language as the console; a bad query is a usage error naming the valid prefixes', async () => {
  const welcome = await store('alice@example.org', 'Welcome Alice', ['welcome']);
  await store('bob@example.org', 'Invoice');
  const listed = await cli(['list', 'tag:welcome', 'to:alice@example.org']);
  expect(listed.code).toBe(0);
  const lines = listed.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^id\s+accepted\s+status\s+provider\s+to\s+subject$/);
  expect(lines).toHaveLength(3);
  expect(lines[2]).toContain(welcome);
  expect(lines[2]).toContain('Welcome Alice');
  expect(listed.stderr).toBe('1 message(s)\n');

  const json = await cli(['list', '--json', '"welcome alice"']);
  expect(JSON.parse(json.stdout).items.map((item: { id: string }) => item.id)).toEqual([welcome]);

  const bad = await cli(['list', 'recipient:alice@example.org']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown search prefix "recipient:"; valid prefixes: to: from: subject:');
});

it('mailroute export --query exports what the query matches, and refuses it with filter flags', async () => {
  const welcome = await store('alice@example.org', 'Welcome Alice', ['welcome']);
  await store('bob@example.org', 'Invoice');
  const exported = await cli(['export', '--query', 'tag:welcome', '--format', 'json']);
  expect(exported.code).toBe(0);
  expect(JSON.parse(exported.stdout).map((row: { id: string }) => row.id)).toEqual([welcome]);
  const both = await cli(['export', '--query', 'tag:welcome', '--status', 'queued']);
  expect(both.code).toBe(2);
});
