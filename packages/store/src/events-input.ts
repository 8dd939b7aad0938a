import { createHash } from 'node:crypto';
import { type BounceClass, type DeliveryEvent, type DeliveryEventType, deliveryEventTypes } from '@mailroute/core';
import { cleanText, jsonText, truncateText } from './clean-text.js';
import { StoreError } from './errors.js';

/**
 * Provider events are untrusted input even after their signature was checked: a provider
 * reflects what recipients and their mail servers sent (addresses, bounce texts, links).
 * Every field is bounded here, before anything reaches SQL.
 */

/** Most events one call ingests (one transaction); webhook handlers cap their batches lower. */
export const MAX_EVENTS_PER_INGEST = 10_000;
/** A SendGrid event is about 1 KiB, an SES notification with headers a few; a bigger payload is kept as its head. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
const PAYLOAD_HEAD_CHARS = 4 * 1024;
const MAX_PROVIDER = 200;
const MAX_EVENT_ID = 200;
const MAX_EVENT_TYPE = 100;
const MAX_MESSAGE_ID = 256;
/** RFC 5321 bounds a path to 256 octets; anything longer cannot be an address. */
const MAX_ADDRESS = 320;
const MAX_REASON = 1_000;
/** A provider clock this far ahead is wrong; the time the event arrived stands in for it. */
const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

const knownTypes = new Set<string>(deliveryEventTypes);

/** One event as ingestion stores it: bounded, cleaned, with its payload as JSON text. */
export interface IncomingEvent {
  readonly provider: string;
  readonly providerEventId: string;
  readonly type: DeliveryEventType;
  readonly providerEventType: string;
  readonly occurredAt: Date;
  readonly recipient: string | null;
  readonly mailrouteId: string | null;
  readonly providerMessageId: string | null;
  readonly bounce?: BounceClass;
  readonly reason: string | null;
  readonly payload: string;
}

/** Checks and bounds one event; the fields that make it an event (provider and its id) must be there. */
export function incomingEvent(event: DeliveryEvent, index: number, receivedAt: number): IncomingEvent {
  if (typeof event !== 'object' || event === null) throw invalid(index, 'is not an object');
  const provider = clean(event.provider);
  if (!provider || provider.length > MAX_PROVIDER) throw invalid(index, `needs a provider name of 1 to ${MAX_PROVIDER} characters`);
  const eventId = clean(event.providerEventId);
  if (!eventId) throw invalid(index, 'has no provider event id (ingestion dedupes on it)');
  const type = typeof event.type === 'string' && knownTypes.has(event.type) ? event.type : 'unknown';
  // Out of range, a time would fail the whole batch on PostgreSQL (and the provider would resend it forever).
  const time = event.occurredAt;
  const occurredAt = Number.isFinite(time) && time >= 0 && time <= receivedAt + MAX_CLOCK_SKEW_MS ? time : receivedAt;
  return {
    provider,
    // A longer id is still one id: its digest keeps duplicates recognisable.
    providerEventId: eventId.length <= MAX_EVENT_ID ? eventId : `sha256:${createHash('sha256').update(eventId).digest('hex')}`,
    type,
    providerEventType: truncateText(clean(event.providerEventType) || type, MAX_EVENT_TYPE),
    occurredAt: new Date(occurredAt),
    recipient: bounded(clean(event.recipient).toLowerCase(), MAX_ADDRESS),
    mailrouteId: bounded(clean(event.mailrouteId), MAX_MESSAGE_ID),
    providerMessageId: bounded(clean(event.providerMessageId), MAX_MESSAGE_ID),
    ...(event.bounce === 'hard' || event.bounce === 'soft' || event.bounce === 'undetermined' ? { bounce: event.bounce } : {}),
    reason: clean(event.reason) === '' ? null : truncateText(clean(event.reason), MAX_REASON),
    payload: payloadText(event.raw),
  };
}

export function checkBatchSize(events: readonly DeliveryEvent[]): void {
  if (!Array.isArray(events)) throw new StoreError('INVALID_INPUT', 'events must be an array');
  if (events.length > MAX_EVENTS_PER_INGEST) {
    throw new StoreError('INVALID_INPUT', `at most ${MAX_EVENTS_PER_INGEST} events per ingestion, got ${events.length}`);
  }
}

/** The provider's JSON as text both databases store (see clean-text.ts), a bigger one as its head. */
export function payloadText(raw: unknown): string {
  let text: string | undefined;
  try {
    text = jsonText(raw ?? null);
  } catch {
    return JSON.stringify({ unserializable: true });
  }
  if (text === undefined) return 'null';
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES) return text;
  return JSON.stringify({ truncated: true, bytes: Buffer.byteLength(text), head: cleanText(text.slice(0, PAYLOAD_HEAD_CHARS)) });
}

/** Surrounding blanks carry no meaning in any of these fields. */
function clean(value: unknown): string {
  return typeof value === 'string' ? cleanText(value).trim() : '';
}

function bounded(value: string, max: number): string | null {
  return value === '' || value.length > max ? null : value;
}

function invalid(index: number, problem: string): StoreError {
  return new StoreError('INVALID_INPUT', `event ${index} ${problem}`, { issues: [{ path: `events.${index}`, message: problem }] });
}
