import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { createSendgridSigner, createSnsSigner, sendgridEvent, sesNotification, snsNotification } from '@mailroute/providers/testing';
import { configSchema, createLogger, type Service, startService } from '@mailroute/server';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SesEmulator, startSesEmulator } from '@mailroute/standins/ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * Delivery tracking end to end: mail goes out through the stand-ins, the provider's signed
 * events come back to the webhook, and the typed client shows the outcome.
 *
 * SendGrid runs against the real server process (the public key is plain configuration).
 * SES runs in this process through `startService`, the same code the CLI runs: SNS signing
 * certificates are fetched only from https://sns.<region>.amazonaws.com, which a test cannot
 * serve, so the certificate source is injected, and a child process cannot take a function.
 */

const SENDGRID_KEY = 'SG.e2e-webhooks.0123456789abcdef';
const ADMIN_KEY = adminKey();
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:mailroute-events';
const signer = createSendgridSigner();
const sns = createSnsSigner();

async function failureCode(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return (error as { data?: { code?: string } }).data?.code;
  }
  throw new Error('the call succeeded');
}

async function finalStatus(
  client: MailrouteClient,
  id: string,
  status: string,
): Promise<Awaited<ReturnType<MailrouteClient['mail']['get']['query']>>> {
  await until(async () => (await client.mail.get.query({ id })).status === status, 15_000, `message ${id} to become ${status}`);
  return client.mail.get.query({ id });
}

const booking = (to: string, label: string) => ({
  from: 'desk@hotel.example',
  to: [to],
  subject: `${label}: your booking`,
  text: 'Your room is booked.',
});

describe('SendGrid events through the real server process', () => {
  let dir: ReturnType<typeof workDir>;
  let sendgrid: SendGridStandIn;
  let server: ServerProcess;
  let client: MailrouteClient;
  let url: string;
  let configFile: string;

  const configWithKey = (webhookPublicKey: string) => ({
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    providers: [{ type: 'sendgrid' as const, name: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: sendgrid.url, webhookPublicKey }],
    worker: { idlePollMs: 100 },
    server: { port: 0 },
  });

  beforeAll(async () => {
    dir = workDir('webhooks-sendgrid');
    sendgrid = await startSendGridStandIn({ apiKey: SENDGRID_KEY });
    const config = writeConfig(join(dir.path, 'mailroute.json'), configWithKey(signer.publicKey));
    configFile = config;
    server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
    url = await server.url;
    client = createMailrouteClient({ url, apiKey: ADMIN_KEY });
  }, 40_000);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await sendgrid?.close();
    dir?.remove();
  });

  /** Sends one mail and answers our id and SendGrid's X-Message-Id as the stand-in recorded them. */
  async function sendThroughSendgrid(to: string, label: string) {
    const { id } = await client.mail.send.mutate(booking(to, label));
    await until(() => sendgrid.accepted.some((entry) => entry.body.custom_args?.mailroute_id === id), 15_000, `SendGrid to accept ${id}`);
    const accepted = sendgrid.accepted.find((entry) => entry.body.custom_args?.mailroute_id === id);
    await until(async () => (await client.mail.get.query({ id })).status === 'sent', 10_000, `${id} to be sent`);
    return { id, xMessageId: accepted?.messageId ?? '' };
  }

  async function postEvents(events: readonly Record<string, unknown>[], by = signer) {
    const body = JSON.stringify(events);
    const { signature, timestamp } = by.sign(body);
    return fetch(`${url}/webhooks/sendgrid`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
      body,
    });
  }

  it('delivered: the final status, the attempt the events belong to, engagement facts', async () => {
    const { id, xMessageId } = await sendThroughSendgrid('guest@example.org', 'delivered');
    // SendGrid echoes custom_args as top-level keys; one event carries only the X-Message-Id.
    const at = Math.floor(Date.now() / 1000);
    const events = [
      sendgridEvent({ event: 'processed', email: 'guest@example.org', mailrouteId: id, xMessageId, timestamp: at - 2 }),
      sendgridEvent({ event: 'delivered', email: 'guest@example.org', xMessageId, timestamp: at - 1 }),
      sendgridEvent({ event: 'open', email: 'guest@example.org', mailrouteId: id, xMessageId, timestamp: at }),
    ];
    const response = await postEvents(events);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: 3, stored: 3, unmatched: 0 });

    const detail = await finalStatus(client, id, 'delivered');
    expect(detail.attempts).toHaveLength(1);
    const attemptId = detail.attempts[0]?.id;
    expect(detail.attempts[0]).toMatchObject({ provider: 'sendgrid', providerMessageId: xMessageId });
    expect(detail.events.map((event) => [event.type, event.provider, event.attemptId])).toEqual([
      ['processed', 'sendgrid', attemptId],
      ['delivered', 'sendgrid', attemptId],
      ['opened', 'sendgrid', attemptId],
    ]);
    expect(detail.transitions.at(-1)).toMatchObject({ from: 'sent', to: 'delivered' });

    const listed = await client.mail.list.query({ status: 'delivered' });
    expect(listed.items.map((item) => item.id)).toContain(id);
    expect((await postEvents(events)).status).toBe(200);
    expect((await client.mail.get.query({ id })).events).toHaveLength(3);
  });

  it('a hard bounce: bounced, the address suppressed for every provider, a later send refused', async () => {
    const to = 'no-such-guest@example.org';
    const { id, xMessageId } = await sendThroughSendgrid(to, 'bounce');
    const at = Math.floor(Date.now() / 1000);
    const response = await postEvents([
      sendgridEvent({ event: 'processed', email: to, mailrouteId: id, xMessageId, timestamp: at - 1 }),
      sendgridEvent({ event: 'bounce', email: to, mailrouteId: id, xMessageId, timestamp: at }),
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: 2, stored: 2, suppressed: 1 });

    const detail = await finalStatus(client, id, 'bounced');
    expect(detail.events.find((event) => event.type === 'bounced')?.reason).toMatch(/does not exist/);
    expect((await client.mail.list.query({ status: 'bounced' })).items.map((item) => item.id)).toEqual([id]);
    const { items } = await client.suppressions.list.query({ address: to });
    expect(items).toMatchObject([{ address: to, reason: 'hard_bounce' }]);

    expect(await failureCode(client.mail.send.mutate(booking(to, 'again')))).toBe('RECIPIENT_SUPPRESSED');
  });

  it('a delivered event that outruns the worker (posted while SendGrid has not answered yet) still ends delivered', async () => {
    sendgrid.setLatency(1_500);
    try {
      const { id } = await client.mail.send.mutate(booking('fast@example.org', 'fast event'));
      await until(async () => (await client.mail.get.query({ id })).status === 'sending', 10_000, `${id} to be sending`);
      const response = await postEvents([sendgridEvent({ event: 'delivered', email: 'fast@example.org', mailrouteId: id })]);
      expect(response.status).toBe(200);
      // The worker holds the message: the event is stored, its status left to the worker's result.
      expect(await response.json()).toMatchObject({ stored: 1, applied: 0 });
      expect((await client.mail.get.query({ id })).events).toMatchObject([{ type: 'delivered', effect: 'recorded' }]);

      const detail = await finalStatus(client, id, 'delivered');
      expect(detail.transitions.map((step) => `${step.from ?? ''}>${step.to}`)).toEqual([
        '>queued',
        'queued>sending',
        'sending>sent',
        'sent>delivered',
      ]);
      expect(detail.events).toMatchObject([{ type: 'delivered', effect: 'applied', attemptId: detail.attempts[0]?.id }]);
      expect(detail.deliveredAt).toBeDefined();
    } finally {
      sendgrid.setLatency(0);
    }
  });

  it('refuses an unsigned post with 401 and stores nothing', async () => {
    const { id } = await sendThroughSendgrid('quiet@example.org', 'unsigned');
    const response = await fetch(`${url}/webhooks/sendgrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([sendgridEvent({ event: 'delivered', mailrouteId: id })]),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const detail = await client.mail.get.query({ id });
    expect(detail.status).toBe('sent');
    expect(detail.events).toEqual([]);
  });

  it('a key rotated in the configuration file takes effect on reload, without a restart', async () => {
    const { id } = await sendThroughSendgrid('rotated@example.org', 'rotation');
    const rotated = createSendgridSigner();
    const event = () => [sendgridEvent({ event: 'delivered', email: 'rotated@example.org', mailrouteId: id })];
    expect((await postEvents(event(), rotated)).status).toBe(401);
    const reloads = server.logs().filter((line) => line.msg === 'configuration reloaded').length;
    writeConfig(configFile, configWithKey(rotated.publicKey));
    await until(() => server.logs().filter((line) => line.msg === 'configuration reloaded').length > reloads, 15_000, 'the reload');
    expect((await postEvents(event(), signer)).status).toBe(401);
    expect((await postEvents(event(), rotated)).status).toBe(200);
    await finalStatus(client, id, 'delivered');
  });
});

describe('SES events through SNS, in process with an injected certificate source', () => {
  let dir: ReturnType<typeof workDir>;
  let ses: SesEmulator;
  let service: Service;
  let client: MailrouteClient;

  beforeAll(async () => {
    dir = workDir('webhooks-ses');
    ses = await startSesEmulator();
    const config = configSchema.parse({
      database: { url: `file:${join(dir.path, 'mailroute.db')}` },
      providers: [
        {
          type: 'ses',
          name: 'ses',
          region: 'eu-west-1',
          endpoint: ses.url,
          credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE12', secretAccessKey: 'ses-secret' },
          configurationSetName: 'mailroute-events',
          webhookTopicArns: [TOPIC],
        },
      ],
      worker: { idlePollMs: 100 },
      server: { port: 0 },
    });
    service = await startService({
      role: 'all',
      config,
      source: { path: join(dir.path, 'mailroute.json'), explicit: false },
      env: {},
      logger: createLogger('warn'),
      adminKey: ADMIN_KEY,
      print: () => {},
      certificateSource: sns.certificateSource,
    });
    client = createMailrouteClient({ url: service.url ?? '', apiKey: ADMIN_KEY });
  }, 40_000);

  afterAll(async () => {
    await service?.stop();
    await ses?.close();
    dir?.remove();
  });

  async function sendThroughSes(to: string, label: string) {
    const { id } = await client.mail.send.mutate(booking(to, label));
    await until(async () => (await client.mail.get.query({ id })).status === 'sent', 15_000, `${id} to be sent through SES`);
    const mail = (await ses.messages()).find((entry) => entry.tags.mailroute_id === id);
    expect(mail?.configurationSetName).toBe('mailroute-events');
    return { id, sesMessageId: mail?.messageId ?? '' };
  }

  const post = (message: unknown) =>
    fetch(`${service.url}/webhooks/ses`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: JSON.stringify(message),
    });

  it('Send and Delivery events (SignatureVersion 1 and 2): delivered, on the SES attempt', async () => {
    const to = 'ses-guest@example.org';
    const { id, sesMessageId } = await sendThroughSes(to, 'ses delivered');
    for (const [type, version] of [
      ['Send', '1'],
      ['Delivery', '2'],
    ] as const) {
      const notification = sesNotification({ type, messageId: sesMessageId, mailrouteId: id, recipients: [to] });
      const response = await post(sns.sign(snsNotification(TOPIC, notification), version));
      expect(response.status, type).toBe(200);
    }
    const detail = await finalStatus(client, id, 'delivered');
    const attemptId = detail.attempts[0]?.id;
    expect(detail.attempts[0]).toMatchObject({ provider: 'ses', providerMessageId: sesMessageId });
    expect(detail.events.map((event) => [event.type, event.provider, event.attemptId])).toEqual([
      ['processed', 'ses', attemptId],
      ['delivered', 'ses', attemptId],
    ]);
  });

  it('a permanent bounce: bounced, suppressed, a later send refused; a wrong topic is refused', async () => {
    const to = 'ses-gone@example.org';
    const { id, sesMessageId } = await sendThroughSes(to, 'ses bounce');
    const bounce = sesNotification({ type: 'Bounce', messageId: sesMessageId, mailrouteId: id, recipients: [to], bounceType: 'Permanent' });
    const wrongTopic = await post(sns.sign(snsNotification('arn:aws:sns:eu-west-1:123456789012:other', bounce), '2'));
    expect(wrongTopic.status).toBe(403);
    expect((await client.mail.get.query({ id })).events).toEqual([]);

    const response = await post(sns.sign(snsNotification(TOPIC, bounce), '2'));
    expect(response.status).toBe(200);
    await finalStatus(client, id, 'bounced');
    expect((await client.suppressions.list.query({ address: to })).items).toMatchObject([{ address: to, reason: 'hard_bounce' }]);
    expect(await failureCode(client.mail.send.mutate(booking(to, 'again')))).toBe('RECIPIENT_SUPPRESSED');
  });
});
