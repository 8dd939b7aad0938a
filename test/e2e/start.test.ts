import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMailrouteClient } from '@mailroute/client';
import { startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/mail.js';
import { builtCli, type ServerProcess, spawnMailroute, workDir } from './support/server-process.js';

/**
 * The README's quick start on the built CLI (what `npm start` runs), in an empty working
 * directory: embedded SQLite, capture fallback, the first admin key printed once, a first
 * message through the API. `--port 0` only because port 3000 may be taken on a test machine.
 */

const rootPackage = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
  scripts: Record<string, string>;
};

/** `node [node options] apps/server/dist/cli.js serve`: the options are kept to run the server exactly so. */
const startCommand = /^node((?: --[\w-]+=\S+)*) apps\/server\/dist\/cli\.js serve$/.exec(rootPackage.scripts.start ?? '');
const nodeOptions = (startCommand?.[1] ?? '').split(' ').filter(Boolean);

let dir: ReturnType<typeof workDir> | undefined;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill('SIGTERM');
  dir?.remove();
});

describe('npm start', () => {
  it('runs the built CLI', () => {
    expect(startCommand, rootPackage.scripts.start).not.toBeNull();
    expect(existsSync(builtCli), `${builtCli} is missing: npm install (or npm run build) builds it`).toBe(true);
  });

  it('serves on the embedded default from an empty directory and captures the first message', async () => {
    dir = workDir('start');
    server = spawnMailroute({ args: ['serve', '--port', '0'], cwd: dir.path, built: true, nodeOptions });
    const url = await server.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', role: 'all' });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(existsSync(join(dir.path, 'data', 'mailroute.db'))).toBe(true);

    // Standard output is a pipe here, not a terminal: the drawn key goes to an owner-only file
    // the log names, and never to the output a log shipper would read.
    const keyLine = await server.waitForLog((line) => line.msg.startsWith('first admin key created and written to'));
    expect(keyLine.file).toBe(join(dir.path, 'data', 'admin-key.txt'));
    const key = readFileSync(join(dir.path, 'data', 'admin-key.txt'), 'utf8').trim();
    expect(key).toMatch(/^mr_\S+$/);
    expect(server.output.join('')).not.toContain(key);
    const captureLine = server.logs().find((line) => line.msg.startsWith('no providers configured'));
    const captured = join(dir.path, 'data', 'captured');
    expect(captureLine?.captureDirectory).toBe(captured);

    const client = createMailrouteClient({ url, apiKey: key ?? '' });
    const { id, status } = await client.mail.send.mutate({
      from: 'app@example.com',
      to: ['me@example.com'],
      subject: 'Hello',
      text: 'It works.',
    });
    expect(status).toBe('queued');
    await until(() => existsSync(captured) && readdirSync(captured).some((file) => file.endsWith('.json')), 10_000, 'the captured message');
    const record = readdirSync(captured).find((file) => file.endsWith('.json')) ?? '';
    expect(readFileSync(join(captured, record), 'utf8')).toContain(id);

    // The largest messages, several at once, with the memory `npm start` gives the process.
    // One request per call: a batch of four would be one 50 MB body, over the body limit.
    const unbatched = createMailrouteClient({ url, apiKey: key ?? '', batch: false });
    const content = Buffer.alloc(9.5 * 1024 * 1024, 7).toString('base64');
    const large = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        unbatched.mail.send.mutate({
          from: 'app@example.com',
          to: ['me@example.com'],
          subject: `Plan ${index}`,
          text: 'attached',
          attachments: [{ filename: 'plan.bin', content }],
        }),
      ),
    );
    expect(large.map((result) => result.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
    await until(
      () => readdirSync(captured).filter((file) => file.endsWith('.eml')).length === 5,
      30_000,
      'the large messages to be captured',
    );

    // The quick start goes on by writing mailroute.yaml beside it: picked up without a restart.
    const smtp = await startSmtpStandin();
    try {
      writeFileSync(
        join(dir.path, 'mailroute.yaml'),
        `providers:\n  - type: smtp\n    name: relay\n    host: 127.0.0.1\n    port: ${smtp.port}\n`,
      );
      await server.waitForLog((line) => line.msg === 'configuration reloaded' && String(line.providers) === 'relay');
      const second = await client.mail.send.mutate({
        from: 'app@example.com',
        to: ['me@example.com'],
        subject: 'Delivered',
        text: 'Now for real.',
      });
      const [delivered] = await smtp.waitForMessages(1, 10_000);
      expect(delivered?.parsed.headers.get('x-mailroute-id')).toBe(second.id);
      expect(server.logs().some((line) => line.msg === 'these sections changed and take effect only after a restart')).toBe(false);
    } finally {
      await smtp.close();
    }

    expect(await server.kill('SIGTERM')).toBe(0);
  }, 40_000);
});
