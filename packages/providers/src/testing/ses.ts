import { randomBytes, randomUUID } from 'node:crypto';
import { MESSAGE_ID_HEADER, MESSAGE_ID_TAG } from '@mailroute/core';

export interface SesNotificationInit {
  /** SES's name: Send, Reject, Bounce, Complaint, Delivery, DeliveryDelay, Open, Click, Rendering Failure, Subscription. */
  readonly type: string;
  /**
   * `event`: configuration-set event publishing (`eventType`, message tags in `mail.tags`).
   * `notification`: identity notifications (`notificationType`, no tags).
   */
  readonly format?: 'event' | 'notification';
  readonly recipients?: readonly string[];
  /** What SendRawEmail answered. */
  readonly messageId?: string;
  /** Our id: a message tag (event format) and the X-Mailroute-Id header (when headers are included). */
  readonly mailrouteId?: string | undefined;
  /** Whether `mail.headers` is present (an option of the SNS destination). Default true. */
  readonly includeHeaders?: boolean;
  /** ISO time of the event; `mail.timestamp` is a second earlier. */
  readonly timestamp?: string;
  readonly bounceType?: 'Permanent' | 'Transient' | 'Undetermined';
  readonly bounceSubType?: string;
  /** Keys merged over the type's object (`bounce`, `delivery`, ...). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** Where each event type keeps its detail, as SES names it. */
const detailKeyOfType: Readonly<Record<string, string>> = {
  Bounce: 'bounce',
  Complaint: 'complaint',
  Delivery: 'delivery',
  Send: 'send',
  Reject: 'reject',
  Open: 'open',
  Click: 'click',
  'Rendering Failure': 'failure',
  DeliveryDelay: 'deliveryDelay',
  Subscription: 'subscription',
};

/** An SES notification object, the JSON that SNS carries as its Message. */
export function sesNotification(init: SesNotificationInit): Record<string, unknown> {
  const format = init.format ?? 'event';
  const recipients = init.recipients ?? ['guest@example.com'];
  const timestamp = init.timestamp ?? new Date().toISOString();
  const messageId = init.messageId ?? `0100018c${randomBytes(8).toString('hex')}-${randomUUID()}-000000`;
  const detailKey = detailKeyOfType[init.type] ?? init.type.charAt(0).toLowerCase() + init.type.slice(1);
  return {
    [format === 'event' ? 'eventType' : 'notificationType']: init.type,
    mail: mailObject(init, format, recipients, messageId, timestamp),
    [detailKey]: { ...detailOf(init, recipients, timestamp), ...init.detail },
  };
}

function mailObject(
  init: SesNotificationInit,
  format: 'event' | 'notification',
  recipients: readonly string[],
  messageId: string,
  timestamp: string,
): Record<string, unknown> {
  const sentAt = new Date(Date.parse(timestamp) - 1000).toISOString();
  const headers = [
    { name: 'From', value: 'Hotel Bookings <bookings@example.com>' },
    { name: 'To', value: recipients.join(', ') },
    { name: 'Subject', value: 'Your booking is confirmed' },
    { name: 'MIME-Version', value: '1.0' },
    ...(init.mailrouteId === undefined ? [] : [{ name: MESSAGE_ID_HEADER, value: init.mailrouteId }]),
    { name: 'Content-Type', value: 'multipart/alternative; boundary="--_NmP-1b2c3d4e5f-Part_1"' },
  ];
  const tags: Record<string, string[]> = {
    'ses:operation': ['SendRawEmail'],
    'ses:configuration-set': ['mailroute'],
    'ses:source-ip': ['198.51.100.4'],
    'ses:from-domain': ['example.com'],
    'ses:caller-identity': ['mailroute'],
    ...(init.mailrouteId === undefined ? {} : { [MESSAGE_ID_TAG]: [init.mailrouteId] }),
  };
  return {
    timestamp: sentAt,
    source: 'bookings@example.com',
    sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/example.com',
    sendingAccountId: '123456789012',
    messageId,
    destination: [...recipients],
    ...(init.includeHeaders === false
      ? {}
      : {
          headersTruncated: false,
          headers,
          commonHeaders: { from: ['Hotel Bookings <bookings@example.com>'], to: [...recipients], subject: 'Your booking is confirmed' },
        }),
    ...(format === 'event' ? { tags } : { sourceIp: '198.51.100.4', callerIdentity: 'mailroute' }),
  };
}

function detailOf(init: SesNotificationInit, recipients: readonly string[], timestamp: string): Record<string, unknown> {
  const feedbackId = `0102018c${randomBytes(8).toString('hex')}-${randomUUID()}-000000`;
  switch (init.type) {
    case 'Bounce': {
      const bounceType = init.bounceType ?? 'Permanent';
      const permanent = bounceType === 'Permanent';
      return {
        feedbackId,
        bounceType,
        bounceSubType: init.bounceSubType ?? (permanent ? 'General' : 'MailboxFull'),
        bouncedRecipients: recipients.map((emailAddress) => ({
          emailAddress,
          action: 'failed',
          status: permanent ? '5.1.1' : '4.2.2',
          diagnosticCode: permanent ? 'smtp; 550 5.1.1 user unknown' : 'smtp; 452 4.2.2 mailbox full',
        })),
        timestamp,
        reportingMTA: 'dsn; a1-23.smtp-out.eu-west-1.amazonses.com',
      };
    }
    case 'Complaint':
      return {
        feedbackId,
        complaintSubType: null,
        complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
        timestamp,
        userAgent: 'Mozilla/5.0 (compatible; Yahoo Mail feedback loop)',
        complaintFeedbackType: 'abuse',
        arrivalDate: timestamp,
      };
    case 'Delivery':
      return {
        timestamp,
        processingTimeMillis: 1024,
        recipients: [...recipients],
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA: 'a1-23.smtp-out.eu-west-1.amazonses.com',
        remoteMtaIp: '203.0.113.25',
      };
    case 'DeliveryDelay':
      return {
        timestamp,
        delayType: 'TransientCommunicationFailure',
        expirationTime: new Date(Date.parse(timestamp) + 12 * 3_600_000).toISOString(),
        delayedRecipients: recipients.map((emailAddress) => ({
          emailAddress,
          status: '4.4.1',
          diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host',
        })),
        reportingMTA: 'a1-23.smtp-out.eu-west-1.amazonses.com',
      };
    case 'Reject':
      return { reason: 'Bad content' };
    case 'Open':
      return { timestamp, ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)' };
    case 'Click':
      return {
        timestamp,
        ipAddress: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
        link: 'https://example.com/booking/42',
        linkTags: { campaign: ['booking'] },
      };
    case 'Rendering Failure':
      return { templateName: 'booking', errorMessage: "Attribute 'guest' is not present in the rendering data." };
    case 'Subscription':
      return {
        contactList: 'guests',
        timestamp,
        source: 'UnsubscribeHeader',
        newTopicPreferences: { unsubscribeAll: true, topicSubscriptionStatus: [{ topicName: 'offers', subscriptionStatus: 'OptOut' }] },
        oldTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [{ topicName: 'offers', subscriptionStatus: 'OptIn' }] },
      };
    default:
      return {};
  }
}
