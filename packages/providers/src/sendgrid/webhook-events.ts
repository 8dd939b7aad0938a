import { type BounceClass, type DeliveryEvent, type DeliveryEventType, MESSAGE_ID_TAG } from '@mailroute/core';
import { z } from 'zod';

/** Provider kind recorded on every event this parser makes. */
export const SENDGRID_PROVIDER_TYPE = 'sendgrid';

/** Long enough for any SMTP diagnostic worth reading, short enough to store on every event. */
const MAX_REASON = 500;

/** SendGrid's event names, in our vocabulary. Anything else is kept as `unknown`. */
const typeOfEvent: Readonly<Record<string, DeliveryEventType>> = {
  processed: 'processed',
  delivered: 'delivered',
  deferred: 'deferred',
  bounce: 'bounced',
  dropped: 'dropped',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  open: 'opened',
  click: 'clicked',
  // group_unsubscribe / group_resubscribe concern one SendGrid unsubscribe group, which SendGrid
  // enforces itself; mailroute's suppression list is global, so they stay raw as `unknown`.
};

/**
 * Bounce classifications that blame the message or the sender, not the address: such a bounce
 * is soft even when SendGrid reports it as `bounce`, so the address is not suppressed for good.
 */
const softClassifications = new Set(['technical', 'content', 'reputation', 'frequency or volume']);

const eventSchema = z.looseObject({
  event: z.string().min(1),
  sg_event_id: z.string().min(1),
  timestamp: z.number().int().nonnegative(),
  email: z.string().optional(),
  sg_message_id: z.string().optional(),
  [MESSAGE_ID_TAG]: z.unknown().optional(),
  type: z.string().optional(),
  bounce_classification: z.string().optional(),
  reason: z.string().optional(),
  response: z.string().optional(),
  url: z.string().optional(),
});

type SendgridEvent = z.infer<typeof eventSchema>;

/**
 * Turns the JSON array SendGrid posts into normalized events, one per element. A batch with an
 * element of the wrong shape is refused whole, naming the element and field, so nothing half of
 * a batch is stored; an event name this version does not know becomes `unknown`, kept raw.
 */
export function parseSendgridEvents(
  provider: string,
  body: unknown,
): { ok: true; events: DeliveryEvent[] } | { ok: false; reason: string } {
  if (!Array.isArray(body)) return { ok: false, reason: 'the body is not a JSON array of events' };
  const events: DeliveryEvent[] = [];
  for (const [index, element] of body.entries()) {
    const parsed = eventSchema.safeParse(element);
    if (!parsed.success) return { ok: false, reason: clip(`event ${index}: ${describeIssue(parsed.error)}`) };
    events.push(toDeliveryEvent(provider, parsed.data, element));
  }
  return { ok: true, events };
}

function toDeliveryEvent(provider: string, event: SendgridEvent, raw: unknown): DeliveryEvent {
  const type = typeOfEvent[event.event] ?? 'unknown';
  const mailrouteId = event[MESSAGE_ID_TAG];
  const reason = reasonOf(event);
  return {
    provider,
    providerType: SENDGRID_PROVIDER_TYPE,
    providerEventId: event.sg_event_id,
    type,
    providerEventType: event.event,
    occurredAt: event.timestamp * 1000,
    ...(event.email === undefined ? {} : { recipient: event.email }),
    ...(typeof mailrouteId === 'string' && mailrouteId !== '' ? { mailrouteId } : {}),
    ...optional('providerMessageId', xMessageIdOf(event.sg_message_id)),
    ...(type === 'bounced' ? { bounce: bounceClassOf(event) } : {}),
    ...optional('reason', reason === undefined ? undefined : clip(reason)),
    ...(type === 'clicked' ? optional('url', event.url) : {}),
    raw,
  };
}

/**
 * sg_message_id is the X-Message-Id SendGrid answered at send time (what the provider stores as
 * the provider message id), a dot, then the id of the filter or recipient it went through.
 */
function xMessageIdOf(sgMessageId: string | undefined): string | undefined {
  const head = sgMessageId?.split('.', 1)[0];
  return head === '' ? undefined : head;
}

/** `blocked` is SendGrid's temporary refusal; a `bounce` is permanent unless the classification blames the message. */
function bounceClassOf(event: SendgridEvent): BounceClass {
  if (event.type === 'blocked') return 'soft';
  if (event.bounce_classification !== undefined && softClassifications.has(event.bounce_classification.toLowerCase())) return 'soft';
  return 'hard';
}

function reasonOf(event: SendgridEvent): string | undefined {
  switch (event.event) {
    case 'bounce':
      return [event.bounce_classification, event.reason].filter((part) => part !== undefined && part !== '').join(': ') || undefined;
    case 'dropped':
      return event.reason;
    case 'deferred':
    case 'delivered':
      return event.response;
    default:
      return undefined;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: string });
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'not an event';
  const path = issue.path.join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}
