import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SendGridStandIn, startSendGridStandIn } from './server.js';

const NOW = 1_700_000_000_000;

const message = (overrides: Record<string, unknown> = {}) => ({
  personalizations: [{ to: [{ email: 'guest@example.com' }] }],
  from: { email: 'booking@example.com' },
  subject: 'Confirmation',
  content: [{ type: 'text/plain', value: 'See you soon' }],
  custom_args: { mailroute_id: 'm1' },
  ...overrides,
});

let standIn: SendGridStandIn;

beforeAll(async () => {
  standIn = await startSendGridStandIn({ now: () => NOW, invalidAddresses: ['Blocked@Example.com'] });
});

afterEach(() => {
  standIn.normal();
  standIn.setLatency(0);
  standIn.reset();
});

afterAll(async () => {
  await standIn.close();
});

function send(body: unknown, key = standIn.apiKey, path = '/v3/mail/send', method = 'POST') {
  return fetch(`${standIn.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

describe('SendGrid stand-in', () => {
  it('accepts a valid message with 202, an X-Message-Id and an empty body, and records it', async () => {
    const response = await send(message());
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    const messageId = response.headers.get('x-message-id');
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [recorded] = standIn.requests;
    expect(recorded?.headers.authorization).toBe(`Bearer ${standIn.apiKey}`);
    expect(recorded?.body).toEqual(message());
    expect(recorded?.validation).toEqual({ valid: true, errors: [] });
    expect(recorded?.outcome).toEqual({ kind: 'answered', status: 202, messageId });
    expect(standIn.accepted.map((accepted) => accepted.messageId)).toEqual([messageId]);
  });

  it('answers a wrong key with 401 in SendGrid error shape and accepts nothing', async () => {
    const response = await send(message(), 'SG.wrong.key');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ errors: [{ message: expect.any(String), field: null, help: null }] });
    expect(standIn.accepted).toHaveLength(0);
  });

  it('answers an invalid body with 400 naming the field', async () => {
    const response = await send(message({ custom_args: 'mailroute_id=m1' }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string }[] };
    expect(body.errors.map((error) => error.field)).toEqual(['custom_args']);
    expect(standIn.requests[0]?.validation?.valid).toBe(false);
    expect(standIn.accepted).toHaveLength(0);
  });

  it('refuses an address marked invalid, in any case', async () => {
    const response = await send(message({ personalizations: [{ to: [{ email: 'blocked@example.COM' }] }] }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email', help: expect.any(String) }],
    });
  });

  it('answers 200 without a message id in sandbox mode and delivers nothing', async () => {
    const response = await send(message({ mail_settings: { sandbox_mode: { enable: true } } }));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-message-id')).toBeNull();
    expect(standIn.accepted).toHaveLength(0);
  });

  it('lists the key scopes with the same auth', async () => {
    const ok = await send(undefined, standIn.apiKey, '/v3/scopes', 'GET');
    expect(await ok.json()).toEqual({ scopes: expect.arrayContaining(['mail.send']) });
    const refused = await send(undefined, 'SG.bad.key', '/v3/scopes', 'GET');
    expect(refused.status).toBe(401);
  });

  it('sends the rate-limit headers with a 429', async () => {
    standIn.setFault({ kind: 'status', status: 429, rateLimitResetSeconds: 30 });
    const response = await send(message());
    expect(response.status).toBe(429);
    expect(response.headers.get('x-ratelimit-limit')).toBe('600');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(response.headers.get('x-ratelimit-reset')).toBe(String(NOW / 1000 + 30));
    expect(await response.json()).toEqual({ errors: [expect.objectContaining({ message: 'too many requests' })] });
  });

  it('fails the next n requests, then behaves', async () => {
    standIn.failNext(2, 503);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await send(message())).status);
    expect(statuses).toEqual([503, 503, 202]);
    expect(standIn.accepted).toHaveLength(1);
  });

  it('keeps a fixed status until told to behave', async () => {
    standIn.failWith(403);
    expect((await send(message())).status).toBe(403);
    expect((await send(message())).status).toBe(403);
    standIn.normal();
    expect((await send(message())).status).toBe(202);
  });

  it('hangs: reads the request and never answers; close() drops the hung connection', async () => {
    standIn.setFault({ kind: 'hang' });
    let settled = false;
    const pending = send(message()).then(
      () => 'answered',
      () => 'dropped',
    );
    pending.finally(() => {
      settled = true;
    });
    await standIn.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    expect(standIn.requests[0]?.outcome).toEqual({ kind: 'hung' });
    await standIn.close();
    expect(await pending).toBe('dropped');
    await standIn.start();
  });

  it('resets the connection after reading the request, or mid-response', async () => {
    for (const during of ['request', 'response'] as const) {
      standIn.setFault({ kind: 'reset', during });
      const error = await rawPost(message());
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    }
    expect(standIn.requests.map((request) => request.outcome)).toEqual([
      { kind: 'reset', during: 'request' },
      { kind: 'reset', during: 'response' },
    ]);
    expect(standIn.accepted).toHaveLength(0);
  });

  it('accepts then resets: the message counts as sent but the client gets no answer', async () => {
    standIn.setFault({ kind: 'acceptThenReset' });
    const error = await rawPost(message());
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(standIn.accepted).toHaveLength(1);
    expect(standIn.requests[0]?.outcome).toEqual({ kind: 'acceptedThenReset', messageId: standIn.accepted[0]?.messageId });
  });

  it('adds latency before answering', async () => {
    standIn.setLatency(150);
    const started = performance.now();
    expect((await send(message())).status).toBe(202);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const small = await startSendGridStandIn({ maxBodyBytes: 1024 });
    try {
      const response = await fetch(`${small.url}/v3/mail/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${small.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(message({ content: [{ type: 'text/plain', value: 'x'.repeat(2048) }] })),
      });
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('keeps at most logLimit entries while the counters go on', async () => {
    const bounded = await startSendGridStandIn({ logLimit: 2 });
    try {
      const post = () =>
        fetch(`${bounded.url}/v3/mail/send`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bounded.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(message()),
        });
      const ids: (string | null)[] = [];
      for (let i = 0; i < 3; i += 1) ids.push((await post()).headers.get('x-message-id'));
      expect(bounded.counters).toEqual({ requests: 3, accepted: 3 });
      expect(bounded.accepted.map((accepted) => accepted.messageId)).toEqual(ids.slice(1));
      expect(bounded.requests).toHaveLength(2);
      bounded.reset();
      expect(bounded.counters).toEqual({ requests: 0, accepted: 0 });
    } finally {
      await bounded.close();
    }
  });

  it('can be stopped and started again on the same port', async () => {
    const { port } = standIn;
    await standIn.close();
    expect(standIn.listening).toBe(false);
    await expect(send(message())).rejects.toThrow();
    await standIn.start();
    expect(standIn.port).toBe(port);
    expect((await send(message())).status).toBe(202);
  });
});

/** A POST over a fresh connection, resolving with the socket error the client saw (or the status). */
function rawPost(body: unknown): Promise<Error | number> {
  return new Promise((resolve) => {
    const text = JSON.stringify(body);
    const req = httpRequest(
      `${standIn.url}/v3/mail/send`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${standIn.apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', resolve);
      },
    );
    req.on('error', resolve);
    req.end(text);
  });
}
