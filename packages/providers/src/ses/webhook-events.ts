import { type BounceClass, type DeliveryEvent, type DeliveryEventType, MESSAGE_ID_HEADER, MESSAGE_ID_TAG } from '@mailroute/core';
import { z } from 'zod';
import type { SnsMessage } from './sns.js';

/** Provider kind recorded on every event this parser makes. */
export const SES_PROVIDER_TYPE = 'ses';

/** Long enough for any SMTP diagnostic worth reading, short enough to store on every event. */
const MAX_REASON = 500;

const time = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO 8601 time')
  .transform((value) => Date.parse(value));

const mailSchema = z.looseObject({
  messageId: z.string().min(1),
  timestamp: time,
  destination: z.array(z.string()),
  headers: z.array(z.looseObject({ name: z.string(), value: z.string() })).optional(),
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

type Mail = z.infer<typeof mailSchema>;

const recordSchema = z.looseObject({
  eventType: z.string().min(1).optional(),
  notificationType: z.string().min(1).optional(),
  mail: z.unknown().optional(),
});

/** What one SES record says about one recipient (or about the message, when SES cannot tell who). */
interface Occurrence {
  readonly type: DeliveryEventType;
  readonly occurredAt: number;
  readonly recipient?: string;
  readonly bounce?: BounceClass;
  readonly reason?: string;
  readonly url?: string;
}

type Reading = { ok: true; occurrences: Occurrence[] } | { ok: false; reason: string };
type Reader = (record: Record<string, unknown>, mail: Mail) => Reading;

/** A reader validates the type's detail object (named as SES names it) and maps it. */
function reader<T extends z.ZodType>(key: string, schema: T, read: (detail: z.output<T>, mail: Mail) => Occurrence[]): Reader {
  return (record, mail) => {
    const parsed = schema.safeParse(record[key] ?? {});
    if (!parsed.success) return { ok: false, reason: describeIssue(key, parsed.error) };
    return { ok: true, occurrences: read(parsed.data, mail) };
  };
}

const bounceClassOfType: Readonly<Record<string, BounceClass>> = { Permanent: 'hard', Transient: 'soft', Undetermined: 'undetermined' };

/** Each SES event type, in classic notifications (notificationType) and event publishing (eventType) alike. */
const readers: Readonly<Record<string, Reader>> = {
  Send: reader('send', z.looseObject({}), (_detail, mail) => toEach(mail.destination, { type: 'processed', occurredAt: mail.timestamp })),
  Reject: reader('reject', z.looseObject({ reason: z.string().optional() }), (detail, mail) =>
    toEach(mail.destination, { type: 'dropped', occurredAt: mail.timestamp, ...reasonOf(detail.reason) }),
  ),
  'Rendering Failure': reader('failure', z.looseObject({ errorMessage: z.string().optional() }), (detail, mail) =>
    toEach(mail.destination, { type: 'dropped', occurredAt: mail.timestamp, ...reasonOf(detail.errorMessage) }),
  ),
  Delivery: reader(
    'delivery',
    z.looseObject({ timestamp: time, recipients: z.array(z.string()), smtpResponse: z.string().optional() }),
    (detail) => toEach(detail.recipients, { type: 'delivered', occurredAt: detail.timestamp, ...reasonOf(detail.smtpResponse) }),
  ),
  DeliveryDelay: reader(
    'deliveryDelay',
    z.looseObject({
      timestamp: time,
      delayType: z.string().optional(),
      delayedRecipients: z.array(z.looseObject({ emailAddress: z.string(), diagnosticCode: z.string().optional() })),
    }),
    (detail) =>
      detail.delayedRecipients.map((recipient) => ({
        type: 'deferred',
        occurredAt: detail.timestamp,
        recipient: addressOf(recipient.emailAddress),
        ...reasonOf(joined(detail.delayType, recipient.diagnosticCode)),
      })),
  ),
  Bounce: reader(
    'bounce',
    z.looseObject({
      timestamp: time,
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(
        z.looseObject({ emailAddress: z.string(), status: z.string().optional(), diagnosticCode: z.string().optional() }),
      ),
    }),
    (detail) =>
      detail.bouncedRecipients.map((recipient) => ({
        type: 'bounced',
        occurredAt: detail.timestamp,
        recipient: addressOf(recipient.emailAddress),
        bounce: bounceClassOfType[detail.bounceType] ?? 'undetermined',
        ...reasonOf(joined(`${detail.bounceType}/${detail.bounceSubType ?? '-'}`, recipient.diagnosticCode ?? recipient.status)),
      })),
  ),
  Complaint: reader(
    'complaint',
    z.looseObject({
      timestamp: time,
      complaintFeedbackType: z.string().optional(),
      complainedRecipients: z.array(z.looseObject({ emailAddress: z.string() })),
    }),
    (detail) =>
      detail.complainedRecipients.map((recipient) => ({
        // An ISP's `not-spam` report says the reader vouched for the mail: no reason to suppress.
        type: detail.complaintFeedbackType === 'not-spam' ? 'unknown' : 'complained',
        occurredAt: detail.timestamp,
        recipient: addressOf(recipient.emailAddress),
        ...reasonOf(detail.complaintFeedbackType),
      })),
  ),
  Open: reader('open', z.looseObject({ timestamp: time }), (detail, mail) => [
    { type: 'opened', occurredAt: detail.timestamp, ...soleRecipient(mail) },
  ]),
  Click: reader('click', z.looseObject({ timestamp: time, link: z.string().optional() }), (detail, mail) => [
    { type: 'clicked', occurredAt: detail.timestamp, ...soleRecipient(mail), ...(detail.link === undefined ? {} : { url: detail.link }) },
  ]),
  // Only "unsubscribe from everything" maps to our global suppression list; a change of one
  // topic's preference is kept raw.
  Subscription: reader(
    'subscription',
    z.looseObject({
      timestamp: time.optional(),
      newTopicPreferences: z.looseObject({ unsubscribeAll: z.boolean().optional() }).optional(),
    }),
    (detail, mail) =>
      detail.newTopicPreferences?.unsubscribeAll === true
        ? toEach(mail.destination, { type: 'unsubscribed', occurredAt: detail.timestamp ?? mail.timestamp })
        : [{ type: 'unknown', occurredAt: detail.timestamp ?? mail.timestamp }],
  ),
};

/**
 * Turns an SES notification carried by a verified SNS Notification into normalized events, one
 * per recipient it names. Our id comes from the `mailroute_id` message tag (event publishing) or
 * the X-Mailroute-Id header (when the destination includes headers); SES's message id, which
 * SendRawEmail answered, is the fallback. Event ids are stable per (SNS MessageId, recipient), so
 * an SNS retry dedupes. A type this version does not know becomes one `unknown` event, kept raw.
 */
export function parseSesNotification(
  provider: string,
  message: SnsMessage,
): { ok: true; events: DeliveryEvent[] } | { ok: false; reason: string } {
  if (message.Type !== 'Notification') return { ok: false, reason: `an SNS ${clip(message.Type)} carries no SES events` };
  let json: unknown;
  try {
    json = JSON.parse(message.Message);
  } catch {
    return { ok: false, reason: 'Message is not JSON' };
  }
  const record = recordSchema.safeParse(json);
  if (!record.success) return { ok: false, reason: clip(describeIssue('Message', record.error)) };
  const sesType = record.data.eventType ?? record.data.notificationType;
  if (sesType === undefined) return { ok: false, reason: 'Message has neither eventType nor notificationType' };
  const base = { provider, providerType: SES_PROVIDER_TYPE, providerEventType: sesType, raw: json };
  const read = readers[sesType];
  // SES's own notices (AmazonSnsSubscriptionSucceeded, ...) and future types carry no mail we know.
  if (read === undefined || record.data.mail === undefined) {
    const occurredAt = Date.parse(message.Timestamp);
    return {
      ok: true,
      events: [
        { ...base, providerEventId: message.MessageId, type: 'unknown', occurredAt: Number.isNaN(occurredAt) ? Date.now() : occurredAt },
      ],
    };
  }
  const mail = mailSchema.safeParse(record.data.mail);
  if (!mail.success) return { ok: false, reason: clip(describeIssue('Message.mail', mail.error)) };
  const reading = read(record.data, mail.data);
  if (!reading.ok) return { ok: false, reason: clip(`Message.${reading.reason}`) };
  const mailrouteId = mailrouteIdOf(mail.data);
  const events = reading.occurrences.map(
    (occurrence): DeliveryEvent => ({
      ...base,
      ...occurrence,
      providerEventId: occurrence.recipient === undefined ? message.MessageId : `${message.MessageId}:${occurrence.recipient}`,
      providerMessageId: mail.data.messageId,
      ...(mailrouteId === undefined ? {} : { mailrouteId }),
    }),
  );
  return { ok: true, events };
}

function mailrouteIdOf(mail: Mail): string | undefined {
  const tagged = mail.tags?.[MESSAGE_ID_TAG]?.[0];
  if (tagged) return tagged;
  const header = MESSAGE_ID_HEADER.toLowerCase();
  const value = mail.headers?.find((entry) => entry.name.toLowerCase() === header)?.value.trim();
  return value ? value : undefined;
}

function toEach(recipients: readonly string[], occurrence: Occurrence): Occurrence[] {
  return recipients.map((recipient) => ({ ...occurrence, recipient: addressOf(recipient) }));
}

/** SES does not say which recipient opened or clicked; with one recipient there is no doubt. */
function soleRecipient(mail: Mail): { recipient?: string } {
  const [only, ...others] = mail.destination;
  return only !== undefined && others.length === 0 ? { recipient: addressOf(only) } : {};
}

/** SES lists destinations as given, which may be `Name <address>`. */
function addressOf(text: string): string {
  const bracketed = /<([^<>]+)>\s*$/.exec(text);
  return (bracketed?.[1] ?? text).trim();
}

function joined(...parts: (string | undefined)[]): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length === 0 ? undefined : present.join(': ');
}

function reasonOf(text: string | undefined): { reason?: string } {
  return text === undefined || text === '' ? {} : { reason: clip(text) };
}

/** Names the first wrong field from the top of the SNS message, e.g. `Message.bounce.bouncedRecipients.0.emailAddress`. */
function describeIssue(prefix: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return `${prefix}: not an SES notification`;
  return `${[prefix, ...issue.path.map(String)].join('.')}: ${issue.message}`;
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}
