import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { MESSAGE_ID_TAG } from '@mailroute/core';

export interface SendgridSigner {
  /** Base64 DER SubjectPublicKeyInfo, the form SendGrid shows as the verification key. */
  readonly publicKey: string;
  /** Signs like SendGrid: ECDSA P-256 with SHA-256 over the timestamp followed by the raw body. */
  sign(rawBody: string | Buffer, timestamp?: string): { signature: string; timestamp: string };
}

/** A fresh P-256 key pair that signs Event Webhook posts the way SendGrid does. */
export function createSendgridSigner(): SendgridSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    sign(rawBody, timestamp = String(Math.floor(Date.now() / 1000))) {
      const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
      const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
      return { signature: sign('sha256', signed, privateKey).toString('base64'), timestamp };
    },
  };
}

export interface SendgridEventInit {
  /** SendGrid's event name: processed, delivered, deferred, bounce, dropped, open, click, ... */
  readonly event: string;
  readonly email?: string;
  /** Our message id, sent as custom_args and echoed by SendGrid as a top-level key; omit for mail sent without it. */
  readonly mailrouteId?: string | undefined;
  /** The X-Message-Id SendGrid answered at send time. */
  readonly xMessageId?: string;
  /** Unix seconds. */
  readonly timestamp?: number;
  readonly sgEventId?: string;
  /** Keys merged over the defaults (e.g. `{ type: 'blocked' }` for a bounce). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Fields SendGrid adds for each event type, as its Event Webhook reference shows them. */
const detailOfEvent: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  processed: { pool: { name: 'new_MY_test', id: 210 }, send_at: 0 },
  delivered: { response: '250 2.0.0 OK  1700000000 x12-20020a05600c1b0c00b0040b2c1f5aesi1234567wmb.123 - gsmtp', ip: '149.72.1.2', tls: 1 },
  deferred: { response: '451 4.7.650 The mail server has been temporarily rate limited', attempt: '1', ip: '149.72.1.2', tls: 1 },
  bounce: {
    type: 'bounce',
    bounce_classification: 'Invalid Address',
    reason: "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address",
    status: '5.1.1',
    ip: '149.72.1.2',
    tls: 1,
  },
  dropped: { reason: 'Bounced Address', status: '5.0.0' },
  open: { sg_machine_open: false, useragent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', ip: '203.0.113.7' },
  click: { url: 'https://example.com/booking/42', url_offset: { index: 0, type: 'html' }, useragent: 'Mozilla/5.0', ip: '203.0.113.7' },
  spamreport: {},
  unsubscribe: {},
  group_unsubscribe: { asm_group_id: 42, useragent: 'Mozilla/5.0', ip: '203.0.113.7' },
  group_resubscribe: { asm_group_id: 42, useragent: 'Mozilla/5.0', ip: '203.0.113.7' },
};

/** One event as it appears in the JSON array SendGrid posts. */
export function sendgridEvent(init: SendgridEventInit): Record<string, unknown> {
  const xMessageId = init.xMessageId ?? randomBytes(16).toString('base64url');
  return {
    email: init.email ?? 'guest@example.com',
    timestamp: init.timestamp ?? Math.floor(Date.now() / 1000),
    'smtp-id': `<${xMessageId}@geopod-ismtpd-3>`,
    event: init.event,
    category: ['booking'],
    sg_event_id: init.sgEventId ?? randomBytes(16).toString('base64url'),
    sg_message_id: `${xMessageId}.recvd-7c9f8b9d5-x2l4q-1-6560A1B2-3.0`,
    ...(init.mailrouteId === undefined ? {} : { [MESSAGE_ID_TAG]: init.mailrouteId }),
    ...detailOfEvent[init.event],
    ...init.extra,
  };
}
