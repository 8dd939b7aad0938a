import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { createHttpApp } from './app.js';

let store: MailStore;
let dropStore: () => Promise<void>;
let dist: string;
const apps: FastifyInstance[] = [];

beforeEach(async () => {
  const file = createSqliteFile();
  dropStore = file.drop;
  store = await createStore({ url: file.url });
  dist = mkdtempSync(path.join(tmpdir(), 'mailroute-dashboard-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(
    path.join(dist, 'index.html'),
    '<!doctype html><title>console</title><script src="/dashboard/assets/app-1a2b3c.js"></script>',
  );
  writeFileSync(path.join(dist, 'assets', 'app-1a2b3c.js'), 'console.log("console")');
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await store.close();
  await dropStore();
  rmSync(dist, { recursive: true, force: true });
});

async function start(options: { dir?: string; enabled?: boolean; trustProxy?: boolean } = {}): Promise<FastifyInstance> {
  const { server } = configSchema.parse({ server: { trustProxy: options.trustProxy ?? false } });
  const app = await createHttpApp({
    settings: server,
    logger: pino({ level: 'silent' }),
    api: { store, providerNames: () => [] },
    readiness: async () => ({ ready: true }),
    role: 'api',
    dashboard: options.enabled ?? true,
    dashboardDir: options.dir ?? dist,
  });
  apps.push(app);
  return app;
}

describe('console files at /dashboard/', () => {
  it('serves index.html uncached, hashed assets cached for a year, and index.html for client-side routes', async () => {
    const app = await start();
    const index = await app.inject('/dashboard/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.body).toContain('<title>console</title>');

    const asset = await app.inject('/dashboard/assets/app-1a2b3c.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('console.log("console")');

    for (const route of ['/dashboard/messages', '/dashboard/messages/0193ab?q=status%3Adead', '/dashboard/providers/sendgrid']) {
      const page = await app.inject(route);
      expect(page.statusCode, route).toBe(200);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body).toContain('<title>console</title>');
    }
    expect((await app.inject('/dashboard/assets/app-old.js')).statusCode).toBe(404);
    const bare = await app.inject('/dashboard');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/dashboard/');
  });

  it('without a build, /dashboard/ answers a 503 page saying how to build it; the API still works', async () => {
    const app = await start({ dir: path.join(dist, 'missing') });
    const page = await app.inject('/dashboard/');
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('The mailroute console is not built');
    expect(page.body).toContain('npm run build');
    expect((await app.inject('/dashboard/messages')).statusCode).toBe(503);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('dashboard.enabled false serves nothing there', async () => {
    const app = await start({ enabled: false });
    expect((await app.inject('/dashboard/')).statusCode).toBe(404);
  });
});

describe('console sessions through Fastify', () => {
  const signIn = (app: FastifyInstance, key: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/trpc/session.signIn',
      headers: { 'content-type': 'application/json', 'x-mailroute-csrf': '1', ...headers },
      payload: JSON.stringify({ key }),
    });

  it('the cookie is Secure when a trusted proxy says the request came over TLS, and not otherwise', async () => {
    const admin = await store.createApiKey({ name: 'ops', scopes: ['admin'] });
    const trusting = await start({ trustProxy: true });
    const viaTls = await signIn(trusting, admin.key, { 'x-forwarded-proto': 'https' });
    expect(viaTls.statusCode).toBe(200);
    expect(String(viaTls.headers['set-cookie'])).toMatch(
      /^mailroute_session=mrs_[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43(199|200); .*; Secure$/,
    );
    const plain = await signIn(trusting, admin.key);
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure');
    const untrusting = await start();
    const spoofed = await signIn(untrusting, admin.key, { 'x-forwarded-proto': 'https' });
    expect(String(spoofed.headers['set-cookie'])).not.toContain('Secure');
  });

  it('a query with the cookie acts as the key; a mutation without the CSRF header is refused', async () => {
    const admin = await store.createApiKey({ name: 'ops', scopes: ['admin'], tenantId: 'hotel' });
    const app = await start();
    const signedIn = await signIn(app, admin.key);
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0] ?? '';
    const whoami = await app.inject({ url: '/trpc/session.whoami', headers: { cookie } });
    expect(whoami.json()).toMatchObject({ result: { data: { name: 'ops', tenantId: 'hotel', via: 'session' } } });
    const forged = await app.inject({
      method: 'POST',
      url: '/trpc/providers.setState',
      headers: { cookie, 'content-type': 'application/json' },
      payload: JSON.stringify({ provider: 'x', state: 'drained' }),
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ error: { data: { code: 'FORBIDDEN' } } });
  });
});
