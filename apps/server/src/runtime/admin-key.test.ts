import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.js';
import { ensureFirstAdminKey } from './admin-key.js';

let store: MailStore;
let drop: () => Promise<void>;
let logged: string;
let printed: string;
const logger = () =>
  pino(
    new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
const print = (text: string) => {
  printed += text;
};

beforeEach(async () => {
  const file = createSqliteFile();
  drop = file.drop;
  store = await createStore({ url: file.url });
  logged = '';
  printed = '';
});
afterEach(async () => {
  await store.close();
  await drop();
});

describe('first admin key', () => {
  it('is drawn and printed once, outside the structured log, when the database has no key', async () => {
    await ensureFirstAdminKey(store, { logger: logger(), print });
    const key = /\n {4}(mr_\S+)\n/.exec(printed)?.[1] ?? '';
    expect((await store.authenticateApiKey(key))?.scopes).toEqual(['send', 'read', 'admin', 'operator']);
    expect(logged).toContain('first admin key created');
    expect(logged).not.toContain(key);

    printed = '';
    await ensureFirstAdminKey(store, { logger: logger(), print });
    expect(printed).toBe('');
    expect(await store.listApiKeys()).toHaveLength(1);
  });

  it('takes the operator key from the environment and stores only its hash; ignores it once keys exist', async () => {
    const providedKey = `mr_${'k'.repeat(40)}`;
    await ensureFirstAdminKey(store, { providedKey, logger: logger(), print });
    expect(printed).toBe('');
    expect(await store.authenticateApiKey(providedKey)).toMatchObject({
      name: 'first admin key',
      tenantId: 'default',
      scopes: ['send', 'read', 'admin', 'operator'],
    });
    expect(logged).not.toContain(providedKey);

    await ensureFirstAdminKey(store, { providedKey: `mr_${'z'.repeat(40)}`, logger: logger(), print });
    expect(await store.listApiKeys()).toHaveLength(1);
    expect(logged).toContain('MAILROUTE_ADMIN_KEY ignored');
  });

  it('a revoked last key does not mint a new admin key', async () => {
    const created = await store.createApiKey({ name: 'only', scopes: ['send'] });
    await store.revokeApiKey(created.id);
    await ensureFirstAdminKey(store, { logger: logger(), print });
    expect(printed).toBe('');
  });

  it('a malformed environment key is a configuration error that does not echo it', async () => {
    const error = await ensureFirstAdminKey(store, { providedKey: 'hunter2', logger: logger(), print }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('MAILROUTE_ADMIN_KEY must start with mr_');
    expect(String(error)).not.toContain('hunter2');
    expect(await store.listApiKeys()).toHaveLength(0);
  });

  it('goes to an owner-only file, named in the log, when standard output is not a terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroute-admin-key-'));
    try {
      const keyFile = join(dir, 'data', 'admin-key.txt');
      await ensureFirstAdminKey(store, { logger: logger(), print, keyFile });
      expect(printed).toBe('');
      const key = readFileSync(keyFile, 'utf8').trim();
      expect((await store.authenticateApiKey(key))?.name).toBe('first admin key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
      expect(logged).toContain(`"file":"${keyFile}"`);
      expect(logged).not.toContain(key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
