import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { parse } from 'csv-parse/sync';
import { satisfies } from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../e2e/support/mail.js';
import { builtCli, type ServerProcess, spawnMailroute, workDir } from '../e2e/support/server-process.js';

/**
 * The smaller defects, probed on the built CLI and server as a new operator meets them: a
 * first start from an empty folder with standard output piped (as under a service manager).
 */

let dir: ReturnType<typeof workDir>;
let server: ServerProcess;
let url: string;
let key: string;
let client: MailrouteClient;

beforeAll(async () => {
  dir = workDir('defects');
  server = spawnMailroute({ args: ['serve', '--port', '0'], cwd: dir.path, built: true });
  url = await server.url;
  key = readFileSync(join(dir.path, 'data', 'admin-key.txt'), 'utf8').trim();
  client = createMailrouteClient({ url, apiKey: key });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  dir?.remove();
});

/** The built `mailroute` CLI, as `npm run mailroute --` runs it. */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [builtCli, ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? '', HOME: dir.path, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Each command's options, as its own flag parser takes them. */
const OPTIONS: Record<string, readonly string[]> = {
  serve: ['--config', '--role', '--log-level', '--host', '--port'],
  worker: ['--config', '--log-level', '--host', '--port'],
  migrate: ['--config'],
  send: ['--to', '--from', '--subject', '--text', '--url', '--api-key', '--config'],
  retry: ['--status', '--provider', '--recipient', '--tag', '--since', '--until', '--id', '--reason', '--dry-run', '--url', '--api-key'],
  export: [
    '--status',
    '--provider',
    '--recipient',
    '--tag',
    '--since',
    '--until',
    '--format',
    '--output',
    '--page-size',
    '--url',
    '--api-key',
  ],
  keys: ['--name', '--scopes', '--tenant', '--config', 'operator'],
  senders: ['--tenant', '--config'],
  providers: ['--window', '--note', '--url', '--api-key', '--config'],
  alerts: ['--state', '--kind', '--subject', '--since', '--until', '--limit', '--cursor', '--json', '--url', '--api-key'],
  config: ['--config'],
};

describe('CLI', () => {
  it('answers --help for every command (and a subcommand) with its options, exit 0', async () => {
    for (const [command, options] of Object.entries(OPTIONS)) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code, command).toBe(0);
      expect(stdout, command).toContain(`usage: mailroute ${command}`);
      for (const option of options) expect(stdout, `${command} ${option}`).toContain(option);
    }
    for (const args of [
      ['keys', 'create', '--help'],
      ['providers', 'drain', '-h'],
      ['config', 'check', '--help'],
    ]) {
      const { code, stdout } = await cli(args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toContain(`usage: mailroute ${args[0]}`);
    }
  }, 60_000);

  it('takes providers --window in whole minutes and refuses 0, abc, negative and too large with exit 2', async () => {
    for (const window of ['0', 'abc', '-5', '1.5', '99999']) {
      const { code, stderr } = await cli(['providers', '--window', window, '--url', url, '--api-key', key]);
      expect(code, window).toBe(2);
      expect(stderr.trim()).toBe(`--window takes whole minutes from 1 to 10080 (7 days), got "${window}"`);
    }
    const { code, stdout } = await cli(['providers', '--window', '90', '--url', url, '--api-key', key]);
    expect(code).toBe(0);
    expect(stdout).toContain('last 90 min');
  }, 60_000);

  it('says which URL it could not reach and why, not only "fetch failed"', async () => {
    const closed = await closedPort();
    const target = `http://127.0.0.1:${closed}`;
    const { code, stderr } = await cli(['providers', '--url', target, '--api-key', key]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`cannot reach the API at ${target}: connect ECONNREFUSED 127.0.0.1:${closed}`);
  });

  it('fails an export to a missing folder with one clear line, no stack trace', async () => {
    const { code, stderr } = await cli(['export', '--output', '/missing/dir/x.csv', '--url', url, '--api-key', key]);
    expect(code).toBe(1);
    expect(stderr).toBe("export: cannot write /missing/dir/x.csv: ENOENT: no such file or directory, open '/missing/dir/x.csv'\n");
  });

  it('exports formula-looking cells with a leading single quote, to an owner-only file', async () => {
    const subjects = ['=HYPERLINK("http://evil.example","x")', '+1', '-1', '@SUM(A1)', 'Booking 7 = confirmed'];
    for (const subject of subjects)
      await client.mail.send.mutate({ from: 'desk@hotel.example', to: ['guest@example.org'], subject, text: 'x' });
    const file = join(dir.path, 'export.csv');
    const { code } = await cli(['export', '--output', file, '--url', url, '--api-key', key]);
    expect(code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const records: { subject: string }[] = parse(readFileSync(file, 'utf8'), { columns: true });
    expect(records.map((record) => record.subject).sort()).toEqual(
      ['\'=HYPERLINK("http://evil.example","x")', "'+1", "'-1", "'@SUM(A1)", 'Booking 7 = confirmed'].sort(),
    );
  });
});

describe('API input', () => {
  it('refuses __proto__ (like constructor) in metadata and headers with 400 and the path', async () => {
    for (const [field, name] of [
      ['metadata', '__proto__'],
      ['headers', '__proto__'],
      ['metadata', 'constructor'],
    ] as const) {
      const body = `{"from":"desk@hotel.example","to":["guest@example.org"],"subject":"s","text":"t","${field}":{"${name}":"x"}}`;
      const response = await fetch(`${url}/trpc/mail.send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBe(400);
      const answer = (await response.json()) as { error: { data: { code: string; issues: { path: string }[] } } };
      expect(answer.error.data.code).toBe('INVALID_MESSAGE');
      expect(answer.error.data.issues.map((issue) => issue.path)).toEqual([`${field}.${name}`]);
    }
  });
});

describe('files on disk', () => {
  it('creates data/, the database with its -wal/-shm, captured mail and the first key owner-only; the key is on no output stream', async () => {
    const { id } = await client.mail.send.mutate({ from: 'desk@hotel.example', to: ['guest@example.org'], subject: 'mode', text: 'x' });
    const captured = join(dir.path, 'data', 'captured');
    const capturedIt = () =>
      existsSync(captured) &&
      readdirSync(captured).some((name) => name.endsWith('.json') && readFileSync(join(captured, name), 'utf8').includes(id));
    await until(capturedIt, 10_000, 'the message captured');
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect(mode(join(dir.path, 'data'))).toBe('700');
    expect(mode(captured)).toBe('700');
    for (const name of ['mailroute.db', 'mailroute.db-wal', 'mailroute.db-shm', 'admin-key.txt']) {
      expect(mode(join(dir.path, 'data', name)), name).toBe('600');
    }
    for (const name of readdirSync(captured)) expect(mode(join(captured, name)), name).toBe('600');
    expect(server.output.join('')).not.toContain(key);
    const line = server.logs().find((entry) => entry.msg.startsWith('first admin key created and written to'));
    expect(line?.file).toBe(join(dir.path, 'data', 'admin-key.txt'));
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('Node 20', () => {
  it('only the packages the README explains declare a Node version that excludes 20.19', () => {
    const root = new URL('../../', import.meta.url);
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[] }>;
    };
    const excluding = new Set(
      Object.entries(lock.packages).flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range === undefined || satisfies('20.19.0', range) ? [] : [path.replace(/^.*node_modules\//, '')];
      }),
    );
    // The first column of the README's EBADENGINE table: `name@major`, or `name`, comma-separated.
    const section = readme().split('**Node 20 and `EBADENGINE`.**')[1]?.split('A test (')[0] ?? '';
    const explained = new Set(
      [...section.matchAll(/^\| (`[^|]+) \|/gm)].flatMap((row) =>
        [...(row[1] ?? '').matchAll(/`(@?[^`@]+)(?:@\d+)?`/g)].map((name) => name[1] ?? ''),
      ),
    );
    expect(explained.size).toBeGreaterThan(0);
    for (const name of excluding)
      expect([...explained], `${name} declares a Node version without 20.19: explain it in the README or avoid it`).toContain(name);
  });
});

function readme(): string {
  return readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
}
