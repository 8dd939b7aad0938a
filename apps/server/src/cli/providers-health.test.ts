import { Writable } from 'node:stream';
import { startTestApi, type TestApi } from '@mailroute/api/testing';
import type { ProcessBreaker } from '@mailroute/store';
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
  const code = await runCli(args, {
    env: { MAILROUTE_URL: api.url, MAILROUTE_API_KEY: api.keys.operator.key },
    stdout: new Writable({
      write(chunk, _encoding, done) {
        stdout += String(chunk);
        done();
      },
    }),
    stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  return { code, stdout };
}

const breaker = (state: ProcessBreaker['state']): ProcessBreaker => ({
  type: 'sendgrid',
  state,
  since: Date.now(),
  enabled: true,
  fires: 0,
  successes: 0,
  failures: 0,
  rejects: 0,
  latencyMeanMs: 0,
});

it('mailroute providers against an api process shows the workers breakers from their heartbeats, half-open ones as not closed', async () => {
  for (const [id, state] of [
    ['w1', 'open'],
    ['w2', 'closed'],
    ['w3', 'half_open'],
  ] as const) {
    await api.store.recordHeartbeat({
      id,
      role: 'worker',
      host: 'h',
      pid: 1,
      startedAt: Date.now(),
      breakers: { sendgrid: breaker(state) },
    });
  }
  const { code, stdout } = await cli(['providers']);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^provider\s+type\s+state\s+breaker\s+attempts\s+success\s+avg\s+p95\s+open in\s+last provider error/m);
  expect(stdout).toMatch(/^sendgrid\s+sendgrid\s+enabled\s+open 1, half_open 1, closed 1\s+0\s+-\s+-\s+-\s+2\/3 \(1 half-open\)\s/m);
  expect(stdout).toMatch(/^ses\s+-\s+enabled\s+-\s+0\s+-\s+-\s+-\s+-\s/m);
});
