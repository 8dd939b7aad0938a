import { join } from 'node:path';
import { createMailrouteClient, type MailrouteClient } from '@mailroute/client';
import { createSendgridSigner, sendgridEvent } from '@mailroute/providers/testing';
import { type SendGridStandIn, startSendGridStandIn } from '@mailroute/standins/sendgrid';
import { type SmtpStandin, startSmtpStandin } from '@mailroute/standins/smtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedMail, until } from './support/mail.js';
import { adminKey, type ServerProcess, spawnMailroute, workDir, writeConfig } from './support/server-process.js';

/**
 * An ambiguous send: SendGrid takes the mail, then the connection breaks before the answer.
 * With `ambiguousPolicy: confirm` the message is held. A processed event inside the window
 * confirms it (one copy in the world); without one, the window runs out and the next provider
 * sends it. Which of the two happened is in the message's transitions.
 */

const SENDGRID_KEY = 'SG.e2e-ambiguous.0123456789abcdef';
const ADMIN_KEY = adminKey();
const WINDOW_MS = 3_000;
const signer = createSendgridSigner();

let dir: ReturnType<typeof workDir>;
let sendgrid: SendGridStandIn;
let smtp: SmtpStandin;
let server: ServerProcess;
let client: MailrouteClient;
let url: string;

beforeAll(async () => {
  dir = workDir('ambiguous');
  [sendgrid, smtp] = await Promise.all([startSendGridStandIn({ apiKey: SENDGRID_KEY }), startSmtpStandin()]);
  const config = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    providers: [
      { type: 'sendgrid', name: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: sendgrid.url, webhookPublicKey: signer.publicKey },
      { type: 'smtp', name: 'smtp', host: '127.0.0.1', port: smtp.port },
    ],
    routing: { ambiguousPolicy: 'confirm', confirmWindowMs: WINDOW_MS },
    worker: { idlePollMs: 100 },
    server: { port: 0 },
  });
  server = spawnMailroute({ args: ['serve', '--config', config], cwd: dir.path, env: { MAILROUTE_ADMIN_KEY: ADMIN_KEY } });
  url = await server.url;
  client = createMailrouteClient({ url, apiKey: ADMIN_KEY });
}, 40_000);

afterAll(async () => {
  await server?.kill('SIGTERM');
  await Promise.all([sendgrid?.close(), smtp?.close()]);
  dir?.remove();
});

/** Sends one mail whose SendGrid call is accepted and then cut; resolves once the message is held. */
async function heldSend(label: string): Promise<string> {
  sendgrid.failNext(1, { kind: 'acceptThenReset' });
  const { id } = await client.mail.send.mutate({
    from: 'desk@hotel.example',
    to: [`${label}@example.org`],
    subject: label,
    text: 'Booked.',
  });
  await until(async () => (await client.mail.get.query({ id })).status === 'held', 10_000, `${id} to be held`);
  return id;
}

const copiesOf = async (id: string) => (await receivedMail({ sendgrid, smtp })).filter((mail) => mail.id === id);

async function postSigned(events: readonly Record<string, unknown>[]): Promise<Response> {
  const body = JSON.stringify(events);
  const { signature, timestamp } = signer.sign(body);
  return fetch(`${url}/webhooks/sendgrid/sendgrid`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    },
    body,
  });
}

describe('ambiguous send with ambiguousPolicy confirm', () => {
  it('a processed event inside the window confirms the held message: exactly one copy, sent then delivered', async () => {
    const id = await heldSend('confirmed');
    const xMessageId = sendgrid.accepted.find((entry) => entry.body.custom_args?.mailroute_id === id)?.messageId;
    expect(xMessageId).toBeDefined();
    const held = await client.mail.get.query({ id });
    expect(held.attempts.map((attempt) => [attempt.provider, attempt.errorCode])).toEqual([['sendgrid', 'CONNECTION_RESET']]);

    const email = 'confirmed@example.org';
    const at = Math.floor(Date.now() / 1000);
    const response = await postSigned([
      sendgridEvent({ event: 'processed', email, mailrouteId: id, xMessageId: xMessageId ?? '', timestamp: at }),
    ]);
    expect(response.status).toBe(200);
    await until(async () => (await client.mail.get.query({ id })).status === 'sent', 5_000, `${id} to be confirmed`);

    // Past the window: nothing else may pick it up.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 1_000));
    expect(await copiesOf(id)).toHaveLength(1);
    expect((await copiesOf(id))[0]?.provider).toBe('sendgrid');

    expect((await postSigned([sendgridEvent({ event: 'delivered', email, mailrouteId: id, timestamp: at + 1 })])).status).toBe(200);
    const detail = await client.mail.get.query({ id });
    expect(detail.status).toBe('delivered');
    expect(detail.attempts).toHaveLength(1);
    const confirmation = detail.transitions.find((step) => step.from === 'held');
    expect(confirmation).toMatchObject({ to: 'sent' });
    expect(confirmation?.reason).toMatch(/processed/);
    expect(detail.events.map((event) => [event.type, event.attemptId])).toEqual([
      ['processed', detail.attempts[0]?.id],
      ['delivered', detail.attempts[0]?.id],
    ]);
  }, 30_000);

  it('without an event, the window runs out and the next provider sends it; the record says so', async () => {
    const id = await heldSend('unconfirmed');
    const heldAt = Date.now();
    await until(async () => (await copiesOf(id)).some((mail) => mail.provider === 'smtp'), WINDOW_MS + 10_000, `${id} to go through SMTP`);
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(WINDOW_MS - 500);
    await until(async () => (await client.mail.get.query({ id })).status === 'sent', 5_000, `${id} to be sent`);

    const detail = await client.mail.get.query({ id });
    expect(detail.attempts.map((attempt) => [attempt.provider, attempt.outcome])).toEqual([
      ['sendgrid', 'failed'],
      ['smtp', 'accepted'],
    ]);
    // The record: held after the cut, claimed again once the window ran out (no confirmation), and
    // the second attempt made with SendGrid excluded.
    const hold = detail.transitions.find((step) => step.to === 'held');
    const afterHold = detail.transitions.find((step) => step.from === 'held');
    expect(hold).toBeDefined();
    expect(afterHold).toMatchObject({ to: 'sending', reason: expect.stringMatching(/claimed/) });
    expect((afterHold?.at ?? 0) - (hold?.at ?? 0)).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(detail.attempts[1]?.requestSummary).toMatchObject({ excluded: ['sendgrid'] });
    expect(detail.events).toEqual([]);
    expect((await copiesOf(id)).map((mail) => mail.provider).sort()).toEqual(['sendgrid', 'smtp']);
    await server.waitForLog((line) => line.msg === 'message held for confirmation' && line.messageId === id);
  }, 30_000);
});
