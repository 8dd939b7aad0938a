import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from './main.js';

let database: { url: string; drop: () => Promise<void> };
let config: string;
beforeEach(() => {
  database = createSqliteFile();
  config = `${database.url.replace(/^file:/, '')}.json`;
  writeFileSync(config, JSON.stringify({ database: { url: database.url } }));
});
afterEach(() => database.drop());

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
  const code = await runCli([...args, '--config', config], {
    env: {},
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
  });
  return { code, stdout, stderr };
}

it('keys create --scopes operator makes an operator key; the help lists every scope', async () => {
  const created = await cli(['keys', 'create', '--name', 'ops', '--scopes', 'operator']);
  expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/\(tenant default, scopes operator\)/) });
  const key = /\n {2}(mr_\S+)/.exec(created.stdout)?.[1] ?? '';
  const store = await createStore({ url: database.url });
  try {
    expect(await store.authenticateApiKey(key)).toMatchObject({ tenantId: 'default', scopes: ['operator'] });
  } finally {
    await store.close();
  }
  const help = await cli(['keys']);
  expect(help.code).toBe(2);
  for (const scope of ['send', 'read', 'admin', 'operator']) expect(help.stderr).toMatch(new RegExp(`^ {2}${scope} +\\S`, 'm'));
  expect((await cli(['keys', 'create', '--name', 'x', '--scopes', 'root'])).stderr).toContain('send, read, admin, operator');
});

it('senders set replaces a tenant’s list, list shows it, a bad sender changes nothing', async () => {
  expect(await cli(['senders', 'set', 'hotel', 'Hotel.Example', 'news@mail.hotel.example'])).toMatchObject({
    code: 0,
    stdout: 'tenant hotel may send from: hotel.example, news@mail.hotel.example\n',
  });
  await cli(['senders', 'set', 'spa', 'spa.example']);
  const listed = await cli(['senders', 'list']);
  expect(listed.stdout).toMatch(/^hotel\s+hotel\.example$/m);
  expect(listed.stdout).toMatch(/^spa\s+spa\.example$/m);
  const refused = await cli(['senders', 'set', 'hotel', 'not a domain']);
  expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('senders.0') });
  expect((await cli(['senders', 'list', '--tenant', 'hotel'])).stdout).toMatch(/news@mail\.hotel\.example/);
  expect(await cli(['senders', 'set', 'hotel'])).toMatchObject({ code: 0, stdout: 'tenant hotel has no sender list now\n' });
  expect((await cli(['senders', 'list', '--tenant', 'hotel'])).stdout).toBe('tenant hotel has no sender list\n');
});
