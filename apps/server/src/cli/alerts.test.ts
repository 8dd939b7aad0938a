import { Writable } from 'node:stream';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from './main.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

async function cli(args: readonly string[], key: keyof TestApi['keys'] = 'operator') {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(['alerts', ...args], {
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

it('prints the history newest first: state, kind, subject, duration, notices taken and refused, summary', async () => {
  expect(await cli([])).toEqual({ code: 0, stdout: 'no alerts\n', stderr: '' });
  const { store } = api;
  const late = await store.raiseAlert({ kind: 'late_delivery', subject: '*', summary: 'The oldest message waited 12 min.', detail: {} });
  await store.recordAlertNotification({ alertId: late.alert.id, kind: 'firing', channel: 'slack', ok: true });
  await store.recordAlertNotification({
    alertId: late.alert.id,
    kind: 'firing',
    channel: 'webhook',
    ok: false,
    error: 'HTTP 502: bad gateway',
  });
  await store.resolveAlert(late.alert.id);
  await store.raiseAlert({
    kind: 'breaker_open',
    subject: 'sendgrid',
    summary: 'The breaker for sendgrid has not closed for 6 min.',
    detail: {},
  });

  const table = await cli([]);
  expect(table.code, table.stderr).toBe(0);
  const lines = table.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^started\s+state\s+kind\s+subject\s+lasted\s+notices\s+summary$/);
  expect(lines[2]).toMatch(/Z\s+firing\s+breaker_open\s+sendgrid\s+\d+ s\s+0 sent\s+The breaker for sendgrid has not closed for 6 min\.$/);
  expect(lines[3]).toMatch(
    /Z\s+resolved\s+late_delivery\s+\*\s+\d+ s\s+1 sent, 1 failed \(webhook: HTTP 502: bad gateway\)\s+The oldest message waited 12 min\.$/,
  );

  const firing = await cli(['--state', 'firing', '--json']);
  expect(JSON.parse(firing.stdout).items.map((alert: { kind: string }) => alert.kind)).toEqual(['breaker_open']);
  const paged = await cli(['--limit', '1']);
  expect(paged.stdout).toMatch(/^more: mailroute alerts --cursor \S+$/m);
  const cursor = /--cursor (\S+)/.exec(paged.stdout)?.[1] ?? '';
  expect((await cli(['--cursor', cursor])).stdout).toContain('late_delivery');
});

it('refuses a wrong filter before calling the API, and says what the API refused', async () => {
  expect(await cli(['--state', 'burning'])).toMatchObject({ code: 2, stderr: '--state takes firing, resolved; got "burning"\n' });
  expect(await cli(['--kind', 'weather'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--kind takes late_delivery, breaker_open'),
  });
  expect(await cli(['--limit', '0'])).toMatchObject({ code: 2, stderr: '--limit takes 1 to 200, got "0"\n' });
  expect(await cli(['--since', 'yesterday'])).toMatchObject({ code: 2 });
  expect(await cli([], 'hotelAdmin')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^alerts: FORBIDDEN: .*operator scope/) });
});
