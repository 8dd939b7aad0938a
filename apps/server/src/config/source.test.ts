import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withCaptureFallback } from './capture-fallback.js';
import { ConfigError } from './load.js';
import { readConfig, resolveConfigSource } from './source.js';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'mailroute-config-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

describe('configuration source', () => {
  it('a missing default file means the embedded defaults, with the capture fallback', async () => {
    const source = resolveConfigSource(undefined, {}, cwd);
    expect(source).toEqual({ path: join(cwd, 'mailroute.yaml'), explicit: false });
    const loaded = await readConfig(source, {});
    expect(loaded.fromFile).toBe(false);
    expect(loaded.config.database.url).toBe('file:./data/mailroute.db');
    expect(loaded.config.server).toEqual({
      host: '127.0.0.1',
      port: 3000,
      bodyLimitBytes: 15 * 1024 * 1024,
      bodyBytesInFlight: 64 * 1024 * 1024,
      anonymousBytesInFlight: 1024 * 1024,
      timeouts: { headersMs: 10_000, bodyIdleMs: 30_000, requestMs: 300_000, keepAliveMs: 72_000 },
      rateLimit: { enabled: true, perMinute: 6000, messagesPerMinute: 60_000 },
      cors: { origins: [] },
      trustProxy: false,
    });
    const fallback = withCaptureFallback(loaded.config, cwd);
    expect(fallback.captureDirectory).toBe(join(cwd, 'data/captured'));
    expect(fallback.config.providers).toEqual([
      { type: 'capture', name: 'capture', directory: join(cwd, 'data/captured'), maxInMemory: 1000 },
    ]);
  });

  it('a missing file named by flag or environment is an error', async () => {
    for (const source of [
      resolveConfigSource('nope.yaml', {}, cwd),
      resolveConfigSource(undefined, { MAILROUTE_CONFIG: 'nope.yaml' }, cwd),
    ]) {
      expect(source.explicit).toBe(true);
      await expect(readConfig(source, {})).rejects.toThrow(ConfigError);
    }
  });

  it('finds mailroute.yml or mailroute.json in the working directory; the flag wins over the environment', async () => {
    writeFileSync(join(cwd, 'mailroute.json'), '{"server": {"port": 4000}}');
    const found = resolveConfigSource(undefined, {}, cwd);
    expect(found.path).toBe(join(cwd, 'mailroute.json'));
    expect((await readConfig(found, {})).config.server.port).toBe(4000);
    expect(resolveConfigSource('a.yaml', { MAILROUTE_CONFIG: 'b.yaml' }, cwd).path).toBe(join(cwd, 'a.yaml'));
  });

  it('configured providers are left alone', async () => {
    writeFileSync(join(cwd, 'mailroute.yaml'), 'providers:\n  - { type: smtp, name: relay, url: "smtp://127.0.0.1:2525" }\n');
    const { config } = await readConfig(resolveConfigSource(undefined, {}, cwd), {});
    expect(withCaptureFallback(config, cwd)).toEqual({ config });
  });

  it('a YAML error names the line but never quotes the text (it may hold an interpolated secret)', async () => {
    writeFileSync(join(cwd, 'mailroute.yaml'), `providers:\n  - type: sendgrid\n    apiKey: \${KEY}: x\n`);
    const error = await readConfig(resolveConfigSource(undefined, {}, cwd), { KEY: 'SG.very-secret' }).catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/not valid YAML\/JSON: .* at line 3/);
    expect(String(error)).not.toContain('SG.very-secret');
  });
});
