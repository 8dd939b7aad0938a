import { afterEach, expect, test } from 'vitest';
import { apiClient, browserClient, failure } from './test/client.js';
import { startTestApi, type TestApi } from './test/server.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

test('signing in answers an HttpOnly, SameSite=Strict session cookie with an expiry; the key is never in it', async () => {
  api = await startTestApi({ sessionTtlMs: 60_000 });
  const browser = browserClient(api.url);
  const before = Date.now();
  const me = await browser.client.session.signIn.mutate({ key: api.keys.hotelRead.key });
  expect(me).toMatchObject({ name: 'hotel dashboard', tenantId: 'hotel', scopes: ['read'], operator: false, via: 'session' });
  expect(me.prefix).toBe(api.keys.hotelRead.prefix);
  expect(me.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
  const [cookie = ''] = browser.setCookies;
  expect(cookie).toMatch(/^mailroute_session=mrs_[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=(59|60); Expires=/);
  expect(cookie).not.toContain('Secure');
  expect(cookie).not.toContain(api.keys.hotelRead.key);

  // Every request with the cookie and no Authorization header acts as that key.
  expect(await browser.client.session.whoami.query()).toMatchObject({ keyId: api.keys.hotelRead.id, via: 'session' });
  expect(await browser.client.mail.list.query()).toEqual({ items: [] });
  expect(await failure(browser.client.keys.list.query())).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('admin') });
});

test('behind TLS (X-Forwarded-Proto from a trusted proxy here) the cookie is Secure', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url, { headers: { 'x-forwarded-proto': 'https' } });
  await browser.client.session.signIn.mutate({ key: api.keys.hotelAdmin.key });
  expect(browser.setCookies[0]).toMatch(/; Secure$/);
});

test('a wrong key gets UNAUTHENTICATED and no cookie; a bearer key works as before and whoami says so', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url);
  expect(await failure(browser.client.session.signIn.mutate({ key: 'mr_wrong' }))).toMatchObject({
    code: 'UNAUTHENTICATED',
    httpStatus: 401,
  });
  expect(browser.setCookies).toEqual([]);
  expect(await failure(browser.client.session.whoami.query())).toMatchObject({ code: 'UNAUTHENTICATED' });
  expect(await apiClient(api.url, api.keys.operator.key).session.whoami.query()).toMatchObject({ via: 'bearer', operator: true });
});

test('sign-out deletes the session and clears the cookie; the old cookie is refused afterwards', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url);
  await browser.client.session.signIn.mutate({ key: api.keys.hotelAdmin.key });
  const token = browser.jar.get('mailroute_session');
  expect(await browser.client.session.signOut.mutate()).toEqual({ signedOut: true });
  expect(browser.setCookies.at(-1)).toMatch(/^mailroute_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
  expect(browser.jar.size).toBe(0);
  const replay = browserClient(api.url);
  replay.jar.set('mailroute_session', token ?? '');
  expect(await failure(replay.client.session.whoami.query())).toMatchObject({
    code: 'UNAUTHENTICATED',
    message: expect.stringContaining('sign in again'),
  });
});

test('revoking the key ends its sessions (at once here; in other processes within the 5 s key cache)', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url);
  await browser.client.session.signIn.mutate({ key: api.keys.hotelRead.key });
  expect(await browser.client.session.whoami.query()).toMatchObject({ via: 'session' });
  await apiClient(api.url, api.keys.hotelAdmin.key).keys.revoke.mutate({ id: api.keys.hotelRead.id });
  expect(await failure(browser.client.session.whoami.query())).toMatchObject({ code: 'UNAUTHENTICATED' });
});

test('a session revoked in another process stops within the key cache time', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url);
  await browser.client.session.signIn.mutate({ key: api.keys.hotelRead.key });
  await browser.client.session.whoami.query();
  // Another process revokes it: straight in the database, this process's cache does not hear of it.
  await api.store.revokeApiKey(api.keys.hotelRead.id);
  const started = Date.now();
  for (;;) {
    try {
      await browser.client.session.whoami.query();
    } catch {
      break;
    }
    expect(Date.now() - started).toBeLessThan(6_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

test('cookie-authenticated mutations need the CSRF header; sign-in needs it too; queries and bearer keys do not', async () => {
  api = await startTestApi();
  const signedIn = browserClient(api.url);
  await signedIn.client.session.signIn.mutate({ key: api.keys.hotelAdmin.key });
  const token = signedIn.jar.get('mailroute_session') ?? '';
  const forged = browserClient(api.url, { csrf: false });
  forged.jar.set('mailroute_session', token);
  expect(await forged.client.mail.list.query()).toEqual({ items: [] });
  const refused = await failure(
    forged.client.mail.send.mutate({ from: 'a@hotel.example', to: ['b@example.org'], subject: 's', text: 't' }),
  );
  expect(refused).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('x-mailroute-csrf') });
  expect(await api.store.countByStatus({ tenantId: 'hotel' })).toMatchObject({ queued: 0 });
  expect(await failure(forged.client.session.signIn.mutate({ key: api.keys.hotelAdmin.key }))).toMatchObject({ code: 'FORBIDDEN' });
  expect(await failure(forged.client.session.signOut.mutate())).toMatchObject({ code: 'FORBIDDEN' });
  expect(await signedIn.client.session.whoami.query()).toMatchObject({ via: 'session' });
  const sent = await signedIn.client.mail.send.mutate({ from: 'a@hotel.example', to: ['b@example.org'], subject: 's', text: 't' });
  expect(sent.status).toBe('queued');
  const bearer = await apiClient(api.url, api.keys.hotelSend.key).mail.send.mutate({
    from: 'a@hotel.example',
    to: ['c@example.org'],
    subject: 's',
    text: 't',
  });
  expect(bearer.status).toBe('queued');
});

test('an Authorization header wins over a cookie', async () => {
  api = await startTestApi();
  const browser = browserClient(api.url);
  await browser.client.session.signIn.mutate({ key: api.keys.hotelAdmin.key });
  const both = browserClient(api.url, { headers: { authorization: `Bearer ${api.keys.spaSend.key}` } });
  both.jar.set('mailroute_session', browser.jar.get('mailroute_session') ?? '');
  expect(await both.client.session.whoami.query()).toMatchObject({ tenantId: 'spa', via: 'bearer' });
});
