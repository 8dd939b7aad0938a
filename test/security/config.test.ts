import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import type { MailrouteConfigInput } from '@mailroute/server';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { family, scrape } from '../e2e/support/metrics.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from '../e2e/support/server-process.js';
import { smtpReceivedIds } from '../support/mail.js';

/**
 * The built server runs from a folder holding `mailroute.yaml` (found by its default name, as
 * in the quick start) with a real provider (the SMTP stand-in). Deleting the file, or putting
 * something unreadable in its place, must not switch the process to the capture provider:
 * the previous configuration stays, the log says why, and /metrics shows the failure.
 */

const ADMIN_KEY = adminKey();

let dir: ReturnType<typeof workDir>;
let configPath: string;
let smtp: SmtpStandin;
let server: ServerProcess;
let url: string;
let client: MailrouteClient;

const config = (): MailrouteConfigInput => ({
  database: { url: `file:${join(dir.path, 'mailroute.db')}` },
  providers: [{ type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port }],
  worker: { idlePollMs: 100 },
  server: { port: 0, rateLimit: { enabled: false } },
});

beforeAll(async () => {
  dir = workDir('config-open');
  smtp = await startSmtpStandin();
  // JSON is YAML: the file carries the default name the server looks for without --config.
  configPath = writeConfig(join(dir.path, 'mailroute.yaml'), config());
  server = spawnMailroute({ args: ['serve'], cwd: dir.path, built: true, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
  url = await server.url;
  client = createMailrouteClient({ url, apiKey: ADMIN_KEY });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await smtp?.close();
  dir?.remove();
});

async function sendAndDeliver(subject: string): Promise<string> {
  const { id } = await client.mail.send.mutate({ from: 'desk@hotel.example', to: ['guest@example.org'], subject, text: subject });
  const deadline = Date.now() + 15_000;
  while (!smtpReceivedIds(smtp).includes(id)) {
    if (Date.now() > deadline) throw new Error(`message ${id} never reached the SMTP provider`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return id;
}

async function configMetrics(): Promise<{ valid: number; failures: number }> {
  const families = await scrape(`${url}/metrics`);
  const value = (name: string) => Number(family(families, name).metrics[0]?.value);
  return { valid: value('mailroute_config_valid'), failures: value('mailroute_config_reload_failures_total') };
}

const rejections = () => server.logs().filter((line) => line.msg === 'configuration rejected; the previous configuration stays in force');

describe('configuration never fails open', () => {
  it('keeps the real provider when mailroute.yaml is deleted or unreadable, and shows it in the log and /metrics', async () => {
    await sendAndDeliver('before');
    expect(await configMetrics()).toEqual({ valid: 1, failures: 0 });

    rmSync(configPath);
    const missing = await server.waitForLog((line) => line.msg.startsWith('configuration rejected'));
    expect(missing.error).toMatch(/cannot read configuration file .*mailroute\.yaml: ENOENT/);
    await sendAndDeliver('file deleted');
    expect(existsSync(join(dir.path, 'data/captured'))).toBe(false);
    expect(await configMetrics()).toEqual({ valid: 0, failures: 1 });

    // A folder in the file's place cannot be read as a file (EISDIR): the same refusal.
    mkdirSync(configPath);
    server.child.kill('SIGHUP');
    await waitFor(() => rejections().length >= 2);
    expect(rejections()[1]?.error).toMatch(/cannot read configuration file .*EISDIR/);
    await sendAndDeliver('file unreadable');
    expect((await configMetrics()).failures).toBe(2);
    rmSync(configPath, { recursive: true });

    writeConfig(configPath, config());
    await server.waitForLog((line) => line.msg === 'configuration unchanged');
    expect(await configMetrics()).toEqual({ valid: 1, failures: 2 });
    await sendAndDeliver('file restored');
    expect(existsSync(join(dir.path, 'data/captured'))).toBe(false);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
