import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withCaptureFallback } from '../config/capture-fallback.js';
import { parseConfig } from '../config/load.js';
import type { MailrouteConfig } from '../config/schema.js';
import { createReloader } from './reload.js';

let dir: string;
let path: string;
let logged: string;
let current: MailrouteConfig;
let applied: MailrouteConfig[];
let refuse: string | undefined;

const yaml = (names: string[], extra = '') =>
  `providers:\n${names.map((name) => `  - { type: capture, name: ${name} }`).join('\n')}\n${extra}`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailroute-reload-'));
  path = join(dir, 'mailroute.yaml');
  writeFileSync(path, yaml(['a', 'b']));
  current = parseConfig(yaml(['a', 'b']), {});
  applied = [];
  refuse = undefined;
  logged = '';
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function reloader(start: { fromFile?: boolean; capturing?: boolean; explicit?: boolean } = {}) {
  const logger = pino(
    new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
  return createReloader({
    source: { path, explicit: start.explicit ?? true },
    env: {},
    fromFile: start.fromFile ?? true,
    capturing: start.capturing ?? false,
    logger,
    current: () => current,
    prepare: (raw) => raw,
    async apply(next) {
      if (refuse) throw new Error(refuse);
      applied.push(next);
      current = next;
    },
  });
}

describe('configuration reloader', () => {
  it('applies a new provider order, and nothing when the file did not change', async () => {
    const reload = reloader();
    expect(await reload()).toEqual({ status: 'unchanged' });
    writeFileSync(path, yaml(['b', 'a']));
    expect(await reload()).toEqual({ status: 'reloaded', providers: ['b', 'a'] });
    expect(applied.map((config) => config.providers.map((provider) => provider.name))).toEqual([['b', 'a']]);
    expect(logged).toContain('"msg":"configuration reloaded"');
  });

  it('keeps the configuration in force on an invalid file or a provider that cannot be built, saying why', async () => {
    const reload = reloader();
    writeFileSync(path, 'providers:\n  - { type: capture }\n');
    const invalid = await reload();
    expect(invalid).toEqual({
      status: 'rejected',
      error: 'invalid configuration:\n  providers.0.name: Invalid input: expected string, received undefined',
    });
    refuse = 'provider "b" is used twice';
    writeFileSync(path, yaml(['b', 'a']));
    expect(await reload()).toEqual({ status: 'rejected', error: 'provider "b" is used twice' });
    expect(applied).toEqual([]);
    expect(current.providers.map((provider) => provider.name)).toEqual(['a', 'b']);
    expect(logged.match(/configuration rejected; the previous configuration stays in force/g)).toHaveLength(2);
  });

  it('names sections that need a restart instead of pretending to apply them', async () => {
    const reload = reloader();
    writeFileSync(path, yaml(['a', 'b'], 'server: { port: 4000 }\n'));
    expect(await reload()).toEqual({ status: 'unchanged' });
    expect(logged).toContain('"sections":["server"],"msg":"these sections changed and take effect only after a restart"');
  });

  it('runs one reload at a time, in order', async () => {
    const reload = reloader();
    writeFileSync(path, yaml(['b', 'a']));
    const results = await Promise.all([reload(), reload()]);
    expect(results).toEqual([{ status: 'reloaded', providers: ['b', 'a'] }, { status: 'unchanged' }]);
  });

  it('keeps real providers when the file disappears or cannot be read, saying why', async () => {
    const reload = reloader({ explicit: false });
    rmSync(path);
    const missing = await reload();
    expect(missing.status).toBe('rejected');
    expect(missing.status === 'rejected' && missing.error).toMatch(/^cannot read configuration file .*mailroute\.yaml: ENOENT/);
    mkdirSync(path);
    expect((await reload()).status).toBe('rejected');
    rmSync(path, { recursive: true });
    writeFileSync(path, yaml(['b', 'a']));
    expect(await reload()).toEqual({ status: 'reloaded', providers: ['b', 'a'] });
    expect(applied).toHaveLength(1);
    expect(logged.match(/configuration rejected; the previous configuration stays in force/g)).toHaveLength(2);
  });

  it('never switches a process with real providers to the capture fallback', async () => {
    const reload = reloader();
    writeFileSync(path, 'providers: []\n');
    const emptied = await reload();
    expect(emptied.status === 'rejected' && emptied.error).toMatch(
      /^no providers configured: a running process does not switch to the capture provider/,
    );
    expect(applied).toEqual([]);
  });

  it('lets a process on the embedded defaults pick up a file created later, and keep it once it had one', async () => {
    rmSync(path);
    current = withCaptureFallback(parseConfig('', {})).config;
    const reload = reloader({ explicit: false, fromFile: false, capturing: true });
    expect(await reload()).toEqual({ status: 'unchanged' });
    writeFileSync(path, yaml(['a']));
    expect(await reload()).toEqual({ status: 'reloaded', providers: ['a'] });
    rmSync(path);
    expect((await reload()).status).toBe('rejected');
    expect(current.providers.map((provider) => provider.name)).toEqual(['a']);
  });

  it('tells every outcome to its listener', async () => {
    const results: string[] = [];
    const logger = pino({ enabled: false });
    const reload = createReloader({
      source: { path, explicit: false },
      env: {},
      logger,
      fromFile: true,
      capturing: false,
      current: () => current,
      prepare: (raw) => raw,
      async apply(next) {
        current = next;
      },
      onResult: (result) => results.push(result.status),
    });
    await reload();
    rmSync(path);
    await reload();
    expect(results).toEqual(['unchanged', 'rejected']);
  });
});
