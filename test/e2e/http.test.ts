import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMailrouteClient, errorCodeOf, type MailrouteClient } from '@mailroute/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/mail.js';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * The HTTP edge of the real server process on the embedded defaults (no provider: mail is
 * captured): health and readiness, the body limit, per-key rate limits, and logs that never
 * carry a secret.
 */

const ADMIN_KEY = adminKey();
const PER_MINUTE = 20;

let dir: ReturnType<typeof workDir>;
let server: ServerProcess;
let url: string;
let client: MailrouteClient;

beforeAll(async () => {
  dir = workDir('http');
  const config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    server: { port: 0, rateLimit: { perMinute: PER_MINUTE } },
  });
  server = spawnMailroute({
    args: ['serve', '--config', config, '--log-level', 'debug'],
    cwd: dir.path,
    env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY },
  });
  url = await server.url;
  client = createMailrouteClient({ url, apiKey: ADMIN_KEY, batch: false });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  dir?.remove();
});

/** `mailroute keys create` against the same database, beside the running server. */
async function createKey(name: string, scopes: string): Promise<string> {
  const result = await runMailroute(['keys', 'create', '--name', name, '--scopes', scopes, '--config', join(dir.path, 'mailroute.json')], {
    cwd: dir.path,
  });
  expect(result.code, result.stderr).toBe(0);
  const key = /\n {2}(mr_\S+)/.exec(result.stdout)?.[1];
  if (!key) throw new Error(`no key in: ${result.stdout}`);
  return key;
}

const message = (index: number) => ({
  from: 'desk@hotel.example',
  to: [`guest${index}@example.org`],
  subject: `Booking ${index}`,
  text: 'ok',
});

function post(path: string, body: string, key = ADMIN_KEY): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
}

describe('the HTTP edge', () => {
  it('/healthz answers while the process runs; /readyz once the database is reachable and migrated', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', role: 'all' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', role: 'all' });
  });

  it('with no provider configured, says so and captures mail where it said', async () => {
    const line = await server.waitForLog((entry) => entry.msg.startsWith('no providers configured'));
    const captured = join(dir.path, 'data', 'captured');
    expect(line.captureDirectory).toBe(captured);
    const { id } = await client.mail.send.mutate(message(1));
    const capturedIds = () =>
      existsSync(captured)
        ? readdirSync(captured)
            .filter((file) => file.endsWith('.json'))
            .map((file) => readFileSync(join(captured, file), 'utf8'))
        : [];
    await until(() => capturedIds().some((record) => record.includes(id)), 10_000, 'the captured file');
    expect(readdirSync(captured).filter((file) => file.endsWith('.eml'))).toHaveLength(1);
  });

  it('takes a 9.5 MB attachment (the default limit fits 10 MB of mail) and refuses a larger body with 413 JSON', async () => {
    const content = Buffer.alloc(9.5 * 1024 * 1024, 7).toString('base64');
    const big = { ...message(2), attachments: [{ filename: 'plan.bin', content }] };
    await expect(client.mail.send.mutate(big)).resolves.toMatchObject({ status: 'queued' });

    const huge = JSON.stringify({
      ...message(3),
      attachments: [{ filename: 'huge.bin', content: `${content}${content.slice(0, 3_000_000)}` }],
    });
    expect(huge.length).toBeGreaterThan(15 * 1024 * 1024);
    const response = await post('/trpc/mail.send', huge);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 }, message: expect.stringContaining('15728640 bytes') },
    });
    const viaClient = await client.mail.send.mutate(JSON.parse(huge)).catch((error: unknown) => error);
    expect(errorCodeOf(viaClient)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('limits each API key per minute with 429 and Retry-After; other keys and health checks go on', async () => {
    const burstKey = await createKey('burst', 'send');
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < PER_MINUTE + 5; i += 1) {
      const response = await post('/trpc/mail.send', JSON.stringify(message(100 + i)), burstKey);
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.arrayBuffer();
    }
    expect(statuses.slice(0, PER_MINUTE).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(PER_MINUTE)).toEqual(Array(5).fill(429));
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited?.json()).toMatchObject({ error: { data: { code: 'RATE_LIMITED', httpStatus: 429 } } });
    const burstClient = createMailrouteClient({ url, apiKey: burstKey });
    expect(errorCodeOf(await burstClient.mail.send.mutate(message(199)).catch((error: unknown) => error))).toBe('RATE_LIMITED');

    expect((await post('/trpc/mail.send', JSON.stringify(message(200)))).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('never writes a secret to the log, even for refused keys and failing requests', async () => {
    const bogus = `mr_${'x'.repeat(43)}`;
    const refused = await post('/trpc/mail.send', JSON.stringify(message(300)), bogus);
    expect(refused.status).toBe(401);
    await server.waitForLog((line) => line.msg === 'request completed' && line.status === 401);
    const output = server.output.join('');
    expect(output).toContain('"path":"/trpc/mail.send"');
    for (const secret of [ADMIN_KEY, bogus]) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/mr_[A-Za-z0-9_-]{20,}/);
  });
});
