import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createMailrouteClient } from '@mailroute/client';
import { runCli } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { createStore } from '@mailroute/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, receivedMail, sendMany, until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/** The `mailroute` command line: exit codes, config check, keys, and the operator's resend after an outage. */

let dir: ReturnType<typeof workDir>;
beforeAll(() => {
  dir = workDir('cli');
});
afterAll(() => dir?.remove());

/** The CLI in this process (quick: no child to start); `serve` is the only command that needs a process of its own. */
async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = collector();
  const err = collector();
  const code = await runCli(args, { env, stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe('exit codes and config check', () => {
  it('usage errors exit 2 with the reason', async () => {
    for (const [args, reason] of [
      [[], /usage: mailroute <command>/],
      [['fly'], /unknown command "fly"/],
      [['serve', '--role', 'boss'], /--role must be one of all, api, worker/],
      [['serve', '--bogus'], /Unknown option '--bogus'/],
      [['send', '--subject', 'x'], /--to is required/],
      [['send', '--to', 'a@example.org'], /no API key/],
      [['keys', 'create'], /--name is required/],
      [['config'], /usage: mailroute config check/],
    ] as const) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(reason);
    }
  }, 40_000);

  it('config check prints ok for a valid file and every problem of an invalid one', async () => {
    const good = join(dir.path, 'good.yaml');
    writeFileSync(good, `providers:\n  - type: sendgrid\n    name: sendgrid\n    apiKey: \${SENDGRID_API_KEY}\n`);
    const ok = await cli(['config', 'check', '--config', good], { SENDGRID_API_KEY: 'SG.x' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: .*good\.yaml\n {2}database: file:\.\/data\/mailroute\.db\n {2}providers: sendgrid \(sendgrid\)/);

    const unset = await cli(['config', 'check', '--config', good]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toBe('environment variables not set: SENDGRID_API_KEY\n');

    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'providers:\n  - { type: pigeon, name: a }\nserver: { port: 99999 }\nextra: 1\n');
    const invalid = await cli(['config', 'check', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^invalid configuration:/);
    expect(invalid.stderr).toMatch(/providers\.0\.type/);
    expect(invalid.stderr).toMatch(/server\.port/);
    expect(invalid.stderr).toMatch(/extra/);

    const missing = await cli(['config', 'check', '--config', join(dir.path, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read configuration file .*absent\.yaml/);
  }, 30_000);
});

describe('keys on the database', () => {
  it('creates, lists and revokes keys before any server ran; the key is shown once', async () => {
    const config = writeConfig(join(dir.path, 'keys.json'), { database: { url: `file:${join(dir.path, 'keys.db')}` } });
    const created = await cli([
      'keys',
      'create',
      '--config',
      config,
      '--name',
      'booking app',
      '--scopes',
      'send,read',
      '--tenant',
      'hotel',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const id = /created key (\S+) "booking app" \(tenant hotel, scopes send,read\)/.exec(created.stdout)?.[1] ?? '';
    const key = /\n {2}(mr_\S+)/.exec(created.stdout)?.[1] ?? '';
    expect(key).toMatch(/^mr_/);

    const listed = await cli(['keys', 'list', '--config', config]);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+${key.slice(0, 11)}\\s+booking app\\s+hotel\\s+send,read\\s+\\S+\\s+-\\s+active`));
    expect(listed.stdout).not.toContain(key);

    expect((await cli(['keys', 'revoke', '--config', config, id])).stdout).toBe(`revoked ${id} "booking app"\n`);
    expect((await cli(['keys', 'list', '--config', config])).stdout).toMatch(/revoked \d{4}-/);
    const unknown = await cli(['keys', 'revoke', '--config', config, 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no API key with id nope/);
  }, 30_000);
});

describe('resending after an outage', () => {
  let sendgrid: SendGridStandIn;
  let server: ServerProcess;
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await sendgrid?.close();
  });

  it('mail that went dead while SendGrid was down is counted by a dry run, then resent once by retry', async () => {
    sendgrid = await startSendGridStandIn();
    await sendgrid.close();
    const key = adminKey();
    const databaseUrl = `file:${join(dir.path, 'outage.db')}`;
    const config = writeConfig(join(dir.path, 'outage.json'), {
      database: { url: databaseUrl },
      providers: [{ type: 'sendgrid', name: 'sendgrid', apiKey: sendgrid.apiKey, baseUrl: sendgrid.url }],
      routing: { breaker: { resetTimeoutMs: 300 } },
      // Rounds that find SendGrid's breaker open do not count toward maxAttempts: the mail dies by age.
      retry: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 5, maxAgeMs: 3_000 },
      worker: { idlePollMs: 100 },
      server: { port: 0 },
    });
    server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: key } });
    const url = await server.url;
    const env = { MAILROUTE_URL: url, MAILROUTE_API_KEY: key };

    const sent = await cli(['send', '--to', 'guest@example.org', '--subject', 'Your booking', '--text', 'Room 12'], env);
    expect(sent.code, sent.stderr).toBe(0);
    const firstId = /^accepted: (\S+) \(queued\)$/m.exec(sent.stdout)?.[1] ?? '';
    const others = await sendMany(createMailrouteClient({ url, apiKey: key }), 24, 'outage');
    const ids = new Set([firstId, ...others.map((mail) => mail.id)]);

    const store = await createStore({ url: databaseUrl });
    try {
      await until(async () => (await store.countByStatus()).dead === ids.size, 20_000, 'every message to go dead');
    } finally {
      await store.close();
    }

    const deadLines = server.logs().filter((line) => line.msg === 'message dead');
    expect(new Set(deadLines.map((line) => line.messageId))).toEqual(ids);

    const dryRun = await cli(['retry', '--dry-run'], env);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toBe('25 matching message(s): 25 to requeue\n');
    expect(sendgrid.counters.requests).toBe(0);

    await sendgrid.start();
    const retry = await cli(['retry', '--status', 'dead'], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toBe('25 matching message(s): 25 to requeue\nrequeued 25 message(s)\n');
    await until(async () => (await receivedMail({ sendgrid })).length >= ids.size, 20_000, 'the resent mail');
    const received = await receivedMail({ sendgrid });
    expect(duplicates(received)).toEqual([]);
    expect(new Set(received.map((mail) => mail.id))).toEqual(ids);
    expect(received.find((mail) => mail.id === firstId)).toMatchObject({
      subject: 'Your booking',
      text: 'Room 12',
      to: 'guest@example.org',
    });

    const table = await cli(['providers'], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^provider\s+type\s+state\s+breaker\s+attempts\s+success/m);
    expect(table.stdout).toMatch(/^sendgrid\s+sendgrid\s+enabled\s+(closed|halfOpen)\s+\d+\s+\d+\.\d%/m);
    expect(table.stdout).toMatch(/PROVIDER_UNREACHABLE/);
  }, 55_000);
});
