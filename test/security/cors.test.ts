import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SecurityServer, startBuiltServer } from './support/server.js';

/**
 * CORS on the built server: none by default; with `server.cors.origins`, exactly the listed
 * origins get CORS headers (preflight and actual request), any other origin none at all.
 */

const APP_ORIGIN = 'https://app.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';

let plain: SecurityServer;
let listed: SecurityServer;

beforeAll(async () => {
  [plain, listed] = await Promise.all([
    startBuiltServer({ name: 'cors-off' }),
    startBuiltServer({ name: 'cors-on', config: { server: { cors: { origins: [APP_ORIGIN, 'http://localhost:5173'] } } } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([plain?.stop(), listed?.stop()]);
});

const message = { from: 'desk@hotel.example', to: ['guest@example.org'], subject: 'Booking', text: 'ok' };

function preflight(server: SecurityServer, origin: string): Promise<Response> {
  return fetch(`${server.url}/trpc/mail.send`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
}

function send(server: SecurityServer, origin: string): Promise<Response> {
  return fetch(`${server.url}/trpc/mail.send`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${server.adminKey}` },
    body: JSON.stringify(message),
  });
}

/** Every Access-Control-* header of a response. */
function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

describe('CORS', () => {
  it('is off by default: no CORS header on a preflight or a request, whatever the origin', async () => {
    for (const origin of [APP_ORIGIN, OTHER_ORIGIN]) {
      // The API answers the OPTIONS itself (no key: 401); what matters is that no CORS header allows anything.
      const options = await preflight(plain, origin);
      expect(options.ok).toBe(false);
      expect(corsHeaders(options)).toEqual({});
      const response = await send(plain, origin);
      expect(response.status).toBe(200);
      expect(corsHeaders(response)).toEqual({});
    }
  });

  it('a listed origin gets a preflight answer allowing POST with Authorization, and its request the origin and Retry-After exposed', async () => {
    const options = await preflight(listed, APP_ORIGIN);
    expect(options.status).toBe(204);
    const allowed = corsHeaders(options);
    expect(allowed['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowed['access-control-allow-methods']?.split(/,\s*/)).toContain('POST');
    expect(allowed['access-control-allow-headers']?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type']),
    );
    expect(allowed['access-control-allow-credentials']).toBeUndefined();
    expect(options.headers.get('vary')).toMatch(/origin/i);

    const response = await send(listed, APP_ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
  });

  it('another origin gets no CORS header at all, on the preflight or the request', async () => {
    for (const origin of [OTHER_ORIGIN, 'https://app.example.com.evil.example.net', 'http://app.example.com', 'null']) {
      const options = await preflight(listed, origin);
      expect(options.ok).toBe(false);
      expect(corsHeaders(options)).toEqual({});
      const response = await send(listed, origin);
      expect(corsHeaders(response)).toEqual({});
    }
  });
});
