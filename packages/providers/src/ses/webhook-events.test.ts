import type { DeliveryEvent } from '@mailroute/core';
import { describe, expect, it } from 'vitest';
import { type SesNotificationInit, sesNotification, snsNotification, snsSubscriptionConfirmation } from '../testing/index.js';
import type { SnsMessage } from './sns.js';
import { parseSesNotification } from './webhook-events.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:mailroute-ses-events';
const AT = '2026-11-25T18:00:00.000Z';
const SES_ID = '0100018c1a2b3c4d-5e6f7a8b-1234-4cde-9f00-abcdefabcdef-000000';

/** Verification is sns.ts's job; the parser takes any SnsMessage. */
function sns(record: unknown, overrides: Partial<SnsMessage> = {}): SnsMessage {
  return {
    ...snsNotification(TOPIC, record, { MessageId: 'sns-1', ...overrides }),
    SignatureVersion: '2',
    Signature: 'x',
    SigningCertURL: 'x',
  };
}

function parse(init: SesNotificationInit, overrides: Partial<SnsMessage> = {}): DeliveryEvent[] {
  const parsed = parseSesNotification(
    'ses-eu',
    sns(sesNotification({ messageId: SES_ID, mailrouteId: 'm-1', timestamp: AT, ...init }), overrides),
  );
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.events;
}

const base = {
  provider: 'ses-eu',
  providerType: 'ses',
  providerMessageId: SES_ID,
  mailrouteId: 'm-1',
  occurredAt: Date.parse(AT),
};

describe('parseSesNotification: event publishing', () => {
  it('maps Delivery to one delivered event per recipient with ids stable per (SNS MessageId, recipient)', () => {
    const events = parse({ type: 'Delivery', recipients: ['a@example.com', 'b@example.com'] });
    expect(events).toEqual([
      {
        ...base,
        providerEventId: 'sns-1:a@example.com',
        type: 'delivered',
        providerEventType: 'Delivery',
        recipient: 'a@example.com',
        reason: '250 2.6.0 Message received',
        raw: expect.objectContaining({ eventType: 'Delivery' }),
      },
      expect.objectContaining({ providerEventId: 'sns-1:b@example.com', type: 'delivered', recipient: 'b@example.com' }),
    ]);
    expect(parse({ type: 'Delivery', recipients: ['a@example.com'] })[0]?.providerEventId).toBe('sns-1:a@example.com');
  });

  it('maps a multi-recipient permanent bounce to one hard bounce per bounced recipient, with diagnostics', () => {
    const events = parse({
      type: 'Bounce',
      recipients: ['gone@example.com', 'also-gone@example.com'],
      detail: {
        bouncedRecipients: [
          { emailAddress: 'gone@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
          { emailAddress: 'also-gone@example.com', action: 'failed', status: '5.1.1' },
        ],
      },
    });
    expect(events).toEqual([
      expect.objectContaining({
        ...base,
        providerEventId: 'sns-1:gone@example.com',
        type: 'bounced',
        bounce: 'hard',
        recipient: 'gone@example.com',
        reason: 'Permanent/General: smtp; 550 5.1.1 user unknown',
      }),
      expect.objectContaining({ type: 'bounced', bounce: 'hard', recipient: 'also-gone@example.com', reason: 'Permanent/General: 5.1.1' }),
    ]);
  });

  it.each([
    ['Permanent', 'hard'],
    ['Transient', 'soft'],
    ['Undetermined', 'undetermined'],
    ['SomethingNew', 'undetermined'],
  ] as const)('classifies bounceType %s as %s', (bounceType, bounce) => {
    const events = parse({ type: 'Bounce', detail: { bounceType } });
    expect(events).toEqual([expect.objectContaining({ type: 'bounced', bounce })]);
  });

  it('only names the recipients that bounced, not every destination', () => {
    const events = parse({
      type: 'Bounce',
      recipients: ['ok@example.com', 'gone@example.com'],
      detail: { bouncedRecipients: [{ emailAddress: 'gone@example.com', status: '5.1.1' }] },
    });
    expect(events.map((event) => event.recipient)).toEqual(['gone@example.com']);
  });

  it('maps Complaint to complained per complained recipient, and an ISP not-spam report to unknown', () => {
    expect(parse({ type: 'Complaint', recipients: ['a@example.com', 'b@example.com'] })).toEqual([
      expect.objectContaining({ ...base, type: 'complained', recipient: 'a@example.com', reason: 'abuse' }),
      expect.objectContaining({ type: 'complained', recipient: 'b@example.com' }),
    ]);
    expect(parse({ type: 'Complaint', detail: { complaintFeedbackType: 'not-spam' } })).toEqual([
      expect.objectContaining({ type: 'unknown', providerEventType: 'Complaint' }),
    ]);
  });

  it('maps DeliveryDelay to deferred per delayed recipient with the delay type and diagnostic', () => {
    expect(parse({ type: 'DeliveryDelay', recipients: ['slow@example.com'] })).toEqual([
      expect.objectContaining({
        ...base,
        type: 'deferred',
        providerEventType: 'DeliveryDelay',
        recipient: 'slow@example.com',
        reason: 'TransientCommunicationFailure: smtp; 421 4.4.1 Unable to connect to remote host',
      }),
    ]);
  });

  it('maps Send to processed and Reject and Rendering Failure to dropped for every destination, at the mail’s time', () => {
    const mailTime = Date.parse(AT) - 1000;
    expect(parse({ type: 'Send', recipients: ['a@example.com', 'b@example.com'] })).toEqual([
      expect.objectContaining({ type: 'processed', recipient: 'a@example.com', occurredAt: mailTime }),
      expect.objectContaining({ type: 'processed', recipient: 'b@example.com', occurredAt: mailTime }),
    ]);
    expect(parse({ type: 'Reject' })).toEqual([expect.objectContaining({ type: 'dropped', reason: 'Bad content', occurredAt: mailTime })]);
    expect(parse({ type: 'Rendering Failure' })).toEqual([
      expect.objectContaining({ type: 'dropped', providerEventType: 'Rendering Failure', reason: expect.stringContaining("'guest'") }),
    ]);
  });

  it('maps Open and Click to one event, naming the recipient only when the mail had one', () => {
    expect(parse({ type: 'Open' })).toEqual([
      expect.objectContaining({ ...base, providerEventId: 'sns-1:guest@example.com', type: 'opened', recipient: 'guest@example.com' }),
    ]);
    const click = parse({ type: 'Click', recipients: ['a@example.com', 'b@example.com'] });
    expect(click).toEqual([expect.objectContaining({ providerEventId: 'sns-1', type: 'clicked', url: 'https://example.com/booking/42' })]);
    expect(click[0]).not.toHaveProperty('recipient');
  });

  it('maps Subscription to unsubscribed only when the reader left every topic', () => {
    expect(parse({ type: 'Subscription' })).toEqual([
      expect.objectContaining({ ...base, type: 'unsubscribed', recipient: 'guest@example.com' }),
    ]);
    const oneTopic = parse({
      type: 'Subscription',
      detail: {
        newTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [{ topicName: 'offers', subscriptionStatus: 'OptOut' }] },
      },
    });
    expect(oneTopic).toEqual([expect.objectContaining({ type: 'unknown', providerEventType: 'Subscription', providerEventId: 'sns-1' })]);
  });

  it('keeps an event type it does not know as one unknown event with the record raw', () => {
    const record = sesNotification({ type: 'Teleported', mailrouteId: 'm-1' });
    const parsed = parseSesNotification('ses-eu', sns(record, { Timestamp: AT }));
    expect(parsed).toEqual({
      ok: true,
      events: [
        {
          provider: 'ses-eu',
          providerType: 'ses',
          providerEventId: 'sns-1',
          type: 'unknown',
          providerEventType: 'Teleported',
          occurredAt: Date.parse(AT),
          raw: record,
        },
      ],
    });
  });

  it('keeps SES’s own notices, which carry no mail, as unknown', () => {
    const notice = {
      notificationType: 'AmazonSnsSubscriptionSucceeded',
      message: 'You have successfully subscribed your Amazon SNS topic',
    };
    const parsed = parseSesNotification('ses-eu', sns(notice, { Timestamp: AT }));
    expect(parsed).toMatchObject({
      ok: true,
      events: [{ type: 'unknown', providerEventType: 'AmazonSnsSubscriptionSucceeded', raw: notice }],
    });
  });
});

describe('parseSesNotification: correlation', () => {
  it('takes our id from the message tag, even without headers', () => {
    expect(parse({ type: 'Delivery', includeHeaders: false })[0]).toMatchObject({ mailrouteId: 'm-1', providerMessageId: SES_ID });
  });

  it('takes our id from the X-Mailroute-Id header of a classic notification, whatever the header’s case', () => {
    const record = sesNotification({ type: 'Bounce', format: 'notification', mailrouteId: 'm-7', messageId: SES_ID });
    const mail = record.mail as { headers: { name: string; value: string }[] };
    for (const header of mail.headers) if (header.name === 'X-Mailroute-Id') header.name = 'x-mailroute-id';
    const parsed = parseSesNotification('ses-eu', sns(record));
    expect(parsed.ok && parsed.events[0]).toMatchObject({ mailrouteId: 'm-7', providerMessageId: SES_ID, type: 'bounced' });
  });

  it('falls back to the SES message id for mail without our tag or header', () => {
    const [event] = parse({ type: 'Delivery', mailrouteId: undefined });
    expect(event).toMatchObject({ type: 'delivered', providerMessageId: SES_ID });
    expect(event).not.toHaveProperty('mailrouteId');
    const [classic] = parse({ type: 'Complaint', format: 'notification', mailrouteId: undefined, includeHeaders: false });
    expect(classic).toMatchObject({ type: 'complained', providerMessageId: SES_ID });
    expect(classic).not.toHaveProperty('mailrouteId');
  });

  it('parses classic notifications (notificationType) like published events', () => {
    expect(parse({ type: 'Delivery', format: 'notification', recipients: ['a@example.com'] })).toEqual([
      expect.objectContaining({ ...base, type: 'delivered', providerEventType: 'Delivery', recipient: 'a@example.com' }),
    ]);
  });

  it('reads the address out of a destination written as Name <address>', () => {
    expect(parse({ type: 'Send', recipients: ['"Zoë Guest" <zoe@example.com>'] })[0]?.recipient).toBe('zoe@example.com');
  });
});

describe('parseSesNotification: refusals', () => {
  it('refuses an SNS message that is not a Notification', () => {
    const confirmation = { ...snsSubscriptionConfirmation(TOPIC), SignatureVersion: '2', Signature: 'x', SigningCertURL: 'x' };
    expect(parseSesNotification('ses-eu', confirmation)).toEqual({
      ok: false,
      reason: 'an SNS SubscriptionConfirmation carries no SES events',
    });
  });

  it.each([
    ['a Message that is not JSON', 'not json {', 'Message is not JSON'],
    ['a JSON array', [1, 2], 'Message: '],
    ['a record without a type', { mail: {} }, 'Message has neither eventType nor notificationType'],
    [
      'mail without messageId',
      { eventType: 'Delivery', mail: { timestamp: AT, destination: [] }, delivery: {} },
      'Message.mail.messageId: ',
    ],
    [
      'a bounce without recipients',
      { ...sesNotification({ type: 'Bounce' }), bounce: { bounceType: 'Permanent', timestamp: AT } },
      'Message.bounce.bouncedRecipients: ',
    ],
    [
      'a recipient that is not text',
      { ...sesNotification({ type: 'Delivery' }), delivery: { timestamp: AT, recipients: [7] } },
      'Message.delivery.recipients.0: ',
    ],
    [
      'a timestamp that is not a time',
      { ...sesNotification({ type: 'Delivery' }), delivery: { timestamp: 'yesterday', recipients: ['a@example.com'] } },
      'Message.delivery.timestamp: expected an ISO 8601 time',
    ],
  ])('refuses %s, naming the field', (_name, record, reason) => {
    const parsed = parseSesNotification('ses-eu', sns(record));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason.startsWith(reason)).toBe(true);
  });

  it('caps long reasons at 500 characters', () => {
    const [event] = parse({ type: 'Reject', detail: { reason: 'y'.repeat(4000) } });
    expect(event?.reason).toHaveLength(500);
  });
});
