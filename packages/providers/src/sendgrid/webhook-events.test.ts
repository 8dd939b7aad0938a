import type { DeliveryEvent } from '@mailroute/core';
import { describe, expect, it } from 'vitest';
import { sendgridEvent } from '../testing/index.js';
import { parseSendgridEvents } from './webhook-events.js';

const AT = 1_764_000_000;

function parseOne(init: Parameters<typeof sendgridEvent>[0]): DeliveryEvent {
  const raw = sendgridEvent({ mailrouteId: 'm-1', xMessageId: 'W86EgYT6SQKk0lRflfLRsA', timestamp: AT, sgEventId: 'ev-1', ...init });
  const parsed = parseSendgridEvents('sendgrid-eu', [raw]);
  if (!parsed.ok) throw new Error(parsed.reason);
  expect(parsed.events).toHaveLength(1);
  const [event] = parsed.events;
  if (event === undefined) throw new Error('no event');
  expect(event.raw).toBe(raw);
  return event;
}

describe('parseSendgridEvents', () => {
  it('maps the common fields of every event', () => {
    expect(parseOne({ event: 'delivered', email: 'guest@example.com' })).toEqual({
      provider: 'sendgrid-eu',
      providerType: 'sendgrid',
      providerEventId: 'ev-1',
      type: 'delivered',
      providerEventType: 'delivered',
      occurredAt: AT * 1000,
      recipient: 'guest@example.com',
      mailrouteId: 'm-1',
      providerMessageId: 'W86EgYT6SQKk0lRflfLRsA',
      reason: expect.stringMatching(/^250 2\.0\.0 OK/),
      raw: expect.any(Object),
    });
  });

  it.each([
    ['processed', 'processed'],
    ['delivered', 'delivered'],
    ['deferred', 'deferred'],
    ['bounce', 'bounced'],
    ['dropped', 'dropped'],
    ['spamreport', 'complained'],
    ['unsubscribe', 'unsubscribed'],
    ['open', 'opened'],
    ['click', 'clicked'],
    ['group_unsubscribe', 'unknown'],
    ['group_resubscribe', 'unknown'],
    ['machine_learning_event_of_2030', 'unknown'],
  ])('maps %s to %s, keeping the provider’s name', (name, type) => {
    expect(parseOne({ event: name })).toMatchObject({ type, providerEventType: name });
  });

  it('classifies a bounce of an invalid address as hard with the classification and response as reason', () => {
    const event = parseOne({ event: 'bounce' });
    expect(event).toMatchObject({ type: 'bounced', bounce: 'hard' });
    expect(event.reason).toMatch(/^Invalid Address: 550 5\.1\.1 /);
  });

  it.each([
    [{ type: 'blocked', bounce_classification: 'Invalid Address' }, 'soft'],
    [{ type: 'bounce', bounce_classification: 'Reputation' }, 'soft'],
    [{ type: 'bounce', bounce_classification: 'Content' }, 'soft'],
    [{ type: 'bounce', bounce_classification: 'Frequency or Volume' }, 'soft'],
    [{ type: 'bounce', bounce_classification: 'Technical' }, 'soft'],
    [{ type: 'bounce', bounce_classification: 'Mailbox Unavailable' }, 'hard'],
    [{ type: 'bounce', bounce_classification: 'Unclassified' }, 'hard'],
    [{ type: 'bounce', bounce_classification: undefined }, 'hard'],
  ])('classifies a bounce with %j as %s', (extra, bounce) => {
    expect(parseOne({ event: 'bounce', extra })).toMatchObject({ type: 'bounced', bounce });
  });

  it('keeps the drop reason, the deferral response and the click URL', () => {
    expect(parseOne({ event: 'dropped' })).toMatchObject({ type: 'dropped', reason: 'Bounced Address' });
    expect(parseOne({ event: 'deferred' })).toMatchObject({ type: 'deferred', reason: expect.stringMatching(/^451 4\.7\.650/) });
    expect(parseOne({ event: 'click' })).toMatchObject({ type: 'clicked', url: 'https://example.com/booking/42' });
    expect(parseOne({ event: 'open' })).not.toHaveProperty('reason');
  });

  it('caps a long reason at 500 characters', () => {
    const event = parseOne({ event: 'dropped', extra: { reason: 'x'.repeat(5000) } });
    expect(event.reason).toHaveLength(500);
  });

  it('leaves mailrouteId out for mail sent without our custom arg, keeping the provider message id for correlation', () => {
    const event = parseOne({ event: 'delivered', mailrouteId: undefined });
    expect(event).not.toHaveProperty('mailrouteId');
    expect(event.providerMessageId).toBe('W86EgYT6SQKk0lRflfLRsA');
  });

  it('takes the X-Message-Id from sg_message_id up to the first dot, and leaves it out when absent', () => {
    expect(parseOne({ event: 'processed', extra: { sg_message_id: 'abc-_XYZ' } }).providerMessageId).toBe('abc-_XYZ');
    expect(parseOne({ event: 'processed', extra: { sg_message_id: undefined } })).not.toHaveProperty('providerMessageId');
  });

  it('parses a batch in order, one event per element', () => {
    const batch = ['processed', 'delivered', 'open', 'click'].map((event, index) =>
      sendgridEvent({ event, mailrouteId: `m-${index}`, timestamp: AT + index }),
    );
    const parsed = parseSendgridEvents('sendgrid', batch);
    expect(parsed.ok && parsed.events.map((event) => [event.type, event.mailrouteId, event.occurredAt])).toEqual([
      ['processed', 'm-0', AT * 1000],
      ['delivered', 'm-1', (AT + 1) * 1000],
      ['opened', 'm-2', (AT + 2) * 1000],
      ['clicked', 'm-3', (AT + 3) * 1000],
    ]);
    expect(parseSendgridEvents('sendgrid', [])).toEqual({ ok: true, events: [] });
  });

  it.each([
    ['an object', { events: [] }, 'the body is not a JSON array of events'],
    ['a string', '[]', 'the body is not a JSON array of events'],
    ['null', null, 'the body is not a JSON array of events'],
    ['a number element', [42], 'event 0: Invalid input: expected object, received number'],
    [
      'an event without sg_event_id',
      [sendgridEvent({ event: 'open' }), { ...sendgridEvent({ event: 'open' }), sg_event_id: undefined }],
      'event 1: sg_event_id: ',
    ],
    ['a timestamp as text', [{ ...sendgridEvent({ event: 'open' }), timestamp: '1764000000' }], 'event 0: timestamp: '],
    ['an empty event name', [{ ...sendgridEvent({ event: 'open' }), event: '' }], 'event 0: event: '],
    ['a numeric url', [{ ...sendgridEvent({ event: 'click' }), url: 7 }], 'event 0: url: '],
  ])('refuses the whole batch for %s, naming the element and field', (_name, body, reason) => {
    const parsed = parseSendgridEvents('sendgrid', body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason.startsWith(reason)).toBe(true);
  });
});
