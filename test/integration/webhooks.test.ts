import { Writable } from 'node:stream';
import type { WebhookSettings } from '@mailroute/api';
import { parseMessage } from '@mailroute/core';
import {
  createSendgridSigner,
  createSnsSigner,
  sendgridEvent,
  sesNotification,
  snsNotification,
  snsSubscriptionConfirmation,
} from '@mailroute/providers/testing';
import { configSchema, createHttpApp, createLogger } from '@mailroute/server';
import { createStore, type MailStore } from '@mailroute/store';
import { createSqliteFile } from '@mailroute/store/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * The webhook endpoints on the real Fastify app, with real signatures made here: an ECDSA
 * P-256 key per SendGrid provider entry, an RSA key and self-signed certificate for SNS.
 * Every refusal is checked against the event table: nothing stored, no status moved.
 */

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:mailroute-events';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:someone-else';
const MAX_EVENTS = 50;
const BODY_LIMIT = 64 * 1024;

const sendgridSigner = createSendgridSigner();
const euSigner = createSendgridSigner();
const strangerSigner = createSendgridSigner();
const sns = createSnsSigner();

let file: ReturnType<typeof createSqliteFile>;
let store: MailStore;
let app: Awaited<ReturnType<typeof createHttpApp>>;
let raw: Database.Database;
let settings: WebhookSettings;
const confirmed: string[] = [];
const logLines: Record<string, unknown>[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  file = createSqliteFile();
  store = await createStore({ url: file.url });
  raw = new Database(file.url.replace(/^file:/, ''), { readonly: true });
  const { server } = configSchema.parse({ server: { rateLimit: { perMinute: 3 } } });
  app = await createHttpApp({
    settings: server,
    logger: createLogger('info', logSink),
    role: 'api',
    readiness: async () => ({ ready: true }),
    webhookBodyLimitBytes: BODY_LIMIT,
    api: {
      store,
      providerNames: () => ['sendgrid', 'sendgrid-eu', 'ses'],
      webhooks: {
        settings: () => settings,
        certificateSource: sns.certificateSource,
        confirmSubscription: async (url) => {
          confirmed.push(url);
          return 200;
        },
      },
    },
  });
});

beforeEach(() => {
  settings = {
    toleranceSeconds: 300,
    maxEventsPerRequest: MAX_EVENTS,
    sendgrid: [
      { name: 'sendgrid', publicKey: sendgridSigner.publicKey },
      { name: 'sendgrid-eu', publicKey: euSigner.publicKey },
    ],
    ses: [{ name: 'ses', topicArns: [TOPIC] }],
  };
});

afterAll(async () => {
  raw?.close();
  await app?.close();
  await store?.close();
  await file?.drop();
});

let counter = 0;

/** A message the worker sent through `provider`: one accepted attempt with a provider message id. */
async function sentMessage(provider: string, providerType: 'sendgrid' | 'ses') {
  counter += 1;
  const to = `guest${counter}@example.org`;
  const parsed = parseMessage({ from: 'desk@hotel.example', to: [to], subject: `Booking ${counter}`, text: 'See you soon.' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  const { id } = await store.enqueue(parsed.value);
  const claimed = await store.claim('webhook-test', 100, 60_000);
  expect(claimed.map((message) => message.message.id)).toContain(id);
  const providerMessageId = `pm${counter}-${id}`;
  const at = Date.now();
  await store.complete('webhook-test', [
    {
      kind: 'sent',
      id,
      provider,
      providerMessageId,
      attempts: [
        { messageId: id, provider, providerType, startedAt: at, finishedAt: at + 5, latencyMs: 5, outcome: 'accepted', providerMessageId },
      ],
    },
  ]);
  return { id, to, providerMessageId };
}

const eventRows = () => (raw.prepare('select count(*) as n from event').get() as { n: number }).n;
const suppressionRows = () => (raw.prepare('select count(*) as n from suppression').get() as { n: number }).n;

function postSendgrid(body: string | Buffer, signed: { signature?: string; timestamp?: string }, path = '/webhooks/sendgrid') {
  return app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      ...(signed.signature === undefined ? {} : { 'x-twilio-email-event-webhook-signature': signed.signature }),
      ...(signed.timestamp === undefined ? {} : { 'x-twilio-email-event-webhook-timestamp': signed.timestamp }),
    },
    payload: body,
  });
}

const signedPost = (events: unknown, signer = sendgridSigner, path?: string) => {
  const body = typeof events === 'string' ? events : JSON.stringify(events);
  return postSendgrid(body, signer.sign(body), path);
};

const postSns = (message: unknown, contentType = 'text/plain; charset=UTF-8') =>
  app.inject({
    method: 'POST',
    url: '/webhooks/ses',
    headers: { 'content-type': contentType, 'x-amz-sns-message-type': String((message as { Type?: string }).Type) },
    payload: typeof message === 'string' ? message : JSON.stringify(message),
  });

const statusOf = async (id: string) => (await store.getMessage(id))?.status;

describe('SendGrid webhook: refusals store nothing', () => {
  it('bad signature, wrong key, missing headers, tampered body, stale or future timestamp: 401/403, no event, no status change', async () => {
    const { id, providerMessageId } = await sentMessage('sendgrid', 'sendgrid');
    const events = [sendgridEvent({ event: 'delivered', mailrouteId: id, xMessageId: providerMessageId })];
    const body = JSON.stringify(events);
    const before = eventRows();
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      { what: 'signed by an unknown key', response: await signedPost(events, strangerSigner), status: 401 },
      { what: 'no signature headers', response: await postSendgrid(body, {}), status: 401 },
      {
        what: 'body changed after signing',
        response: await postSendgrid(body.replace('delivered', 'bounce'), sendgridSigner.sign(body)),
        status: 401,
      },
      {
        what: 'signature from another entry than the path names',
        response: await signedPost(events, sendgridSigner, '/webhooks/sendgrid/sendgrid-eu'),
        status: 401,
      },
      { what: 'timestamp 301 s old', response: await postSendgrid(body, sendgridSigner.sign(body, String(now - 301))), status: 403 },
      { what: 'timestamp 10 min ahead', response: await postSendgrid(body, sendgridSigner.sign(body, String(now + 600))), status: 403 },
    ];
    for (const { what, response, status } of cases) {
      expect(response.statusCode, what).toBe(status);
      expect(response.json(), what).toMatchObject({ statusCode: status, code: status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN' });
    }
    expect(eventRows()).toBe(before);
    expect(await statusOf(id)).toBe('sent');
    expect(logLines).toContainEqual(
      expect.objectContaining({ msg: 'webhook refused', status: 403, code: 'FORBIDDEN', reason: expect.stringMatching(/old/) }),
    );

    const unknown = await signedPost(events, sendgridSigner, '/webhooks/sendgrid/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });

    settings = { ...settings, sendgrid: [{ name: 'sendgrid' }] };
    const keyless = await signedPost(events);
    expect(keyless.statusCode).toBe(403);
    expect(keyless.json().message).toMatch(/webhookPublicKey/);
    expect(eventRows()).toBe(before);
  });

  it('keys are read per request: a key added by a reload works at once, a removed one stops working', async () => {
    const { id } = await sentMessage('sendgrid-eu', 'sendgrid');
    const events = [sendgridEvent({ event: 'delivered', mailrouteId: id })];
    settings = { ...settings, sendgrid: [{ name: 'sendgrid', publicKey: sendgridSigner.publicKey }] };
    expect((await signedPost(events, euSigner)).statusCode).toBe(401);
    settings = { ...settings, sendgrid: [...settings.sendgrid, { name: 'sendgrid-eu', publicKey: euSigner.publicKey }] };
    const accepted = await signedPost(events, euSigner);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ received: 1, stored: 1, applied: 1 });
    expect(await statusOf(id)).toBe('delivered');
  });
});

describe('SendGrid webhook: malformed bodies', () => {
  it('not JSON, wrong shapes, more events than allowed: 400 with a reason; too large: 413; nothing stored', async () => {
    const { id } = await sentMessage('sendgrid', 'sendgrid');
    const before = eventRows();
    const tooMany = Array.from({ length: MAX_EVENTS + 1 }, () => sendgridEvent({ event: 'open', mailrouteId: id }));
    const cases: { what: string; body: string; code: string }[] = [
      { what: 'not JSON', body: '[{"event": "delivered",', code: 'INVALID_JSON' },
      {
        what: 'an object, not an array',
        body: JSON.stringify(sendgridEvent({ event: 'delivered', mailrouteId: id })),
        code: 'INVALID_INPUT',
      },
      { what: 'an array of numbers', body: '[1,2,3]', code: 'INVALID_INPUT' },
      {
        what: 'an event without sg_event_id',
        body: JSON.stringify([{ event: 'delivered', email: 'a@b.example', timestamp: 1 }]),
        code: 'INVALID_INPUT',
      },
      {
        what: 'one bad event among good ones',
        body: JSON.stringify([sendgridEvent({ event: 'delivered', mailrouteId: id }), { event: 'delivered', timestamp: 'yesterday' }]),
        code: 'INVALID_INPUT',
      },
      { what: `${MAX_EVENTS + 1} events`, body: JSON.stringify(tooMany), code: 'INVALID_INPUT' },
    ];
    for (const { what, body, code } of cases) {
      const response = await signedPost(body);
      expect(response.statusCode, what).toBe(400);
      expect(response.json(), what).toMatchObject({ statusCode: 400, code });
      expect(String(response.json().message).length, what).toBeGreaterThan(0);
    }
    const huge = JSON.stringify(Array.from({ length: 2_000 }, () => sendgridEvent({ event: 'open', mailrouteId: id })));
    expect(huge.length).toBeGreaterThan(BODY_LIMIT);
    const tooLarge = await signedPost(huge);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('webhooks.bodyLimitBytes') });
    const form = await app.inject({
      method: 'POST',
      url: '/webhooks/sendgrid',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(form.statusCode).toBe(415);
    const empty = await app.inject({ method: 'POST', url: '/webhooks/sendgrid' });
    expect(empty.statusCode).toBe(401);
    expect(empty.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const emptySigned = await postSendgrid('', sendgridSigner.sign(''));
    expect(emptySigned.statusCode).toBe(400);
    expect(emptySigned.json()).toMatchObject({ code: 'INVALID_JSON' });
    expect(eventRows()).toBe(before);
    expect(await statusOf(id)).toBe('sent');
  });

  it('an unknown event type in a signed batch is stored raw with the rest, not dropped', async () => {
    const { id } = await sentMessage('sendgrid', 'sendgrid');
    const before = eventRows();
    const futuristic = sendgridEvent({ event: 'teleported', mailrouteId: id, extra: { portal: 7 } });
    const response = await signedPost([futuristic, sendgridEvent({ event: 'delivered', mailrouteId: id })]);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ received: 2, stored: 2, applied: 1 });
    expect(eventRows()).toBe(before + 2);
    const stored = raw
      .prepare('select type, provider_type as providerType, payload from event where provider_event_id = ?')
      .get(futuristic.sg_event_id) as {
      type: string;
      providerType: string;
      payload: string;
    };
    expect(stored).toMatchObject({ type: 'unknown', providerType: 'teleported' });
    expect(JSON.parse(stored.payload)).toMatchObject({ portal: 7, event: 'teleported' });
    expect(await statusOf(id)).toBe('delivered');
  });

  it('is not behind API keys nor their rate limit', async () => {
    const { id } = await sentMessage('sendgrid', 'sendgrid');
    for (let i = 0; i < 6; i += 1) {
      expect((await signedPost([sendgridEvent({ event: 'open', mailrouteId: id })])).statusCode).toBe(200);
    }
  });
});

describe('SendGrid webhook: replays and duplicates', () => {
  it('the same batch delivered three times changes the message once', async () => {
    const { id, providerMessageId } = await sentMessage('sendgrid', 'sendgrid');
    const batch = ['processed', 'delivered', 'open', 'click'].map((event) =>
      sendgridEvent({ event, mailrouteId: id, xMessageId: providerMessageId }),
    );
    const before = eventRows();
    const reports = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await signedPost(batch);
      expect(response.statusCode).toBe(200);
      reports.push(response.json());
    }
    expect(reports[0]).toMatchObject({ received: 4, stored: 4, duplicates: 0 });
    expect(reports[1]).toMatchObject({ received: 4, stored: 0, duplicates: 4, applied: 0 });
    expect(reports[2]).toMatchObject({ received: 4, stored: 0, duplicates: 4, applied: 0 });
    expect(eventRows()).toBe(before + 4);
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('delivered');
    expect(detail?.transitions.filter((step) => step.to === 'delivered')).toHaveLength(1);
  });

  it('a burst of 46 posts, duplicated and out of order, concurrently: every state change exactly once', async () => {
    const first = await sentMessage('sendgrid', 'sendgrid');
    const second = await sentMessage('sendgrid', 'sendgrid');
    const at = Math.floor(Date.now() / 1000) - 60;
    const pool = [
      sendgridEvent({ event: 'processed', mailrouteId: first.id, timestamp: at }),
      sendgridEvent({ event: 'deferred', mailrouteId: first.id, timestamp: at + 1 }),
      sendgridEvent({ event: 'delivered', mailrouteId: first.id, timestamp: at + 2 }),
      sendgridEvent({ event: 'open', mailrouteId: first.id, timestamp: at + 3 }),
      sendgridEvent({ event: 'click', mailrouteId: first.id, timestamp: at + 4 }),
      sendgridEvent({ event: 'processed', mailrouteId: second.id, email: second.to, timestamp: at }),
      sendgridEvent({ event: 'delivered', mailrouteId: second.id, email: second.to, timestamp: at + 1 }),
      sendgridEvent({ event: 'bounce', mailrouteId: second.id, email: second.to, timestamp: at + 2 }),
    ];
    // Newest first, then shuffled in pairs and repeated: 46 posts of one or two events each.
    const posts = Array.from({ length: 46 }, (_, index) => {
      const a = pool[pool.length - 1 - (index % pool.length)];
      const b = pool[(index * 5 + 3) % pool.length];
      return index % 3 === 0 ? [a] : [a, b];
    });
    const before = eventRows();
    const suppressionsBefore = suppressionRows();
    const responses = await Promise.all(posts.map((events) => signedPost(events)));
    expect(
      responses.map((response) => response.statusCode),
      responses.find((response) => response.statusCode !== 200)?.body,
    ).toEqual(posts.map(() => 200));
    const reports = responses.map((response) => response.json() as { received: number; stored: number; duplicates: number });
    const received = posts.reduce((sum, events) => sum + events.length, 0);
    expect(reports.reduce((sum, report) => sum + report.received, 0)).toBe(received);
    expect(reports.reduce((sum, report) => sum + report.stored, 0)).toBe(pool.length);
    expect(reports.reduce((sum, report) => sum + report.duplicates, 0)).toBe(received - pool.length);
    expect(eventRows()).toBe(before + pool.length);

    const delivered = await store.getMessage(first.id);
    expect(delivered?.status).toBe('delivered');
    const bounced = await store.getMessage(second.id);
    expect(bounced?.status).toBe('bounced');
    for (const detail of [delivered, bounced]) {
      const targets = detail?.transitions.map((step) => step.to) ?? [];
      expect(new Set(targets).size, `transitions of ${detail?.message.id}: ${targets.join(', ')}`).toBe(targets.length);
    }
    expect(suppressionRows()).toBe(suppressionsBefore + 1);
    const { items } = await store.listSuppressions({ address: second.to });
    expect(items).toMatchObject([{ address: second.to, reason: 'hard_bounce' }]);
  });
});

describe('SES webhook through SNS', () => {
  it('refuses a wrong topic, a certificate off the SNS hosts and a bad signature (both versions); stores nothing', async () => {
    const { id, providerMessageId } = await sentMessage('ses', 'ses');
    const notification = sesNotification({ type: 'Delivery', mailrouteId: id, messageId: providerMessageId });
    const before = eventRows();
    for (const version of ['1', '2'] as const) {
      const wrongTopic = await postSns(sns.sign(snsNotification(OTHER_TOPIC, notification), version));
      expect(wrongTopic.statusCode, `v${version} wrong topic`).toBe(403);
      expect(wrongTopic.json()).toMatchObject({ code: 'FORBIDDEN' });

      const elsewhere = createSnsSigner({ certificateUrl: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem' });
      const offHost = await postSns(elsewhere.sign(snsNotification(TOPIC, notification), version));
      expect(offHost.statusCode, `v${version} certificate off SNS hosts`).toBe(403);

      const signed = sns.sign(snsNotification(TOPIC, notification), version);
      const tampered = await postSns({ ...signed, Message: signed.Message.replace('Delivery', 'Bounce') });
      expect(tampered.statusCode, `v${version} tampered`).toBe(401);
      expect(tampered.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(sns.certificateRequests.some((url) => url.includes('evil'))).toBe(false);

    // A certificate that cannot be fetched is SNS's to retry (5xx), not a refusal SNS would drop.
    const unreachable = createSnsSigner({ certificateUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-gone.pem' });
    const unfetched = await postSns(unreachable.sign(snsNotification(TOPIC, notification), '2'));
    expect(unfetched.statusCode).toBe(503);
    expect(unfetched.json()).toMatchObject({ code: 'UNAVAILABLE' });
    expect(eventRows()).toBe(before);
    expect(await statusOf(id)).toBe('sent');
  });

  it('malformed: not JSON, not an SNS message, an SES payload that is not an SES notification: 400, nothing stored', async () => {
    const before = eventRows();
    expect((await postSns('{"Type": "Notification",')).json()).toMatchObject({ statusCode: 400, code: 'INVALID_JSON' });
    expect((await postSns({ hello: 'world' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/webhooks/ses' })).json()).toMatchObject({ statusCode: 400, code: 'INVALID_JSON' });
    const notSes = await postSns(sns.sign(snsNotification(TOPIC, 'plain text, not JSON'), '2'));
    expect(notSes.statusCode).toBe(400);
    expect(notSes.json()).toMatchObject({ code: 'INVALID_INPUT' });
    expect(eventRows()).toBe(before);
  });

  it('a delivery (v1) and a hard bounce (v2) land on the message and its attempt; the bounce suppresses the address', async () => {
    const { id, to, providerMessageId } = await sentMessage('ses', 'ses');
    const delivery = await postSns(
      sns.sign(
        snsNotification(TOPIC, sesNotification({ type: 'Delivery', mailrouteId: id, messageId: providerMessageId, recipients: [to] })),
        '1',
      ),
    );
    expect(delivery.statusCode).toBe(200);
    expect(delivery.json()).toMatchObject({ received: 1, stored: 1, applied: 1 });
    expect(await statusOf(id)).toBe('delivered');

    // Identity notifications carry no tags: the provider message id finds the message.
    const bounce = sesNotification({
      type: 'Bounce',
      format: 'notification',
      messageId: providerMessageId,
      recipients: [to],
      bounceType: 'Permanent',
    });
    const bounced = await postSns(sns.sign(snsNotification(TOPIC, bounce), '2'));
    expect(bounced.statusCode).toBe(200);
    expect(bounced.json()).toMatchObject({ received: 1, stored: 1, suppressed: 1 });
    const detail = await store.getMessage(id);
    expect(detail?.status).toBe('bounced');
    const attemptId = detail?.attempts[0]?.id;
    expect(attemptId).toBeDefined();
    const linked = raw.prepare('select attempt_id as attemptId from event where message_id = ?').all(id) as { attemptId: string }[];
    expect(linked.map((row) => row.attemptId)).toEqual([attemptId, attemptId]);
    expect((await store.listSuppressions({ address: to })).items).toMatchObject([{ address: to, reason: 'hard_bounce' }]);
  });

  it('confirms a subscription only through an https SNS URL, after answering; notes an unsubscribe', async () => {
    const before = eventRows();
    confirmed.length = 0;
    const confirmation = snsSubscriptionConfirmation(TOPIC);
    const response = await postSns(sns.sign(confirmation, '2'));
    expect(response.statusCode).toBe(200);
    await expect.poll(() => confirmed).toEqual([confirmation.SubscribeURL]);

    for (const subscribeUrl of [
      'http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
      'https://attacker.example/?Action=ConfirmSubscription',
    ]) {
      const refused = await postSns(sns.sign(snsSubscriptionConfirmation(TOPIC, { SubscribeURL: subscribeUrl }), '2'));
      expect(refused.statusCode, subscribeUrl).toBe(400);
    }
    const unsubscribed = await postSns(sns.sign(snsSubscriptionConfirmation(TOPIC, { Type: 'UnsubscribeConfirmation' }), '1'));
    expect(unsubscribed.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(confirmed).toEqual([confirmation.SubscribeURL]);
    expect(eventRows()).toBe(before);
  });
});
