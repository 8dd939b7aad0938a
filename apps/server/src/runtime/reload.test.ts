import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

function reloader() {
  const logger = pino(
    new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
  return createReloader({
    source: { path, explicit: true },
    env: {},
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
});
