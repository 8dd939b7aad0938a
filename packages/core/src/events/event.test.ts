import { describe, expect, it } from 'vitest';
import { type MessageStatus, messageStatuses } from '../model/status.js';
import { type DeliveryEventType, deliveryEventTypes, statusAfterEvent, suppressionReasonOf } from './event.js';

const fateEvents = [
  'processed',
  'deferred',
  'delivered',
  'dropped',
  'bounced',
  'complained',
] as const satisfies readonly DeliveryEventType[];
const factEvents = ['opened', 'clicked', 'unsubscribed', 'unknown'] as const satisfies readonly DeliveryEventType[];
const statusOfFate: Record<(typeof fateEvents)[number], MessageStatus> = {
  processed: 'sent',
  deferred: 'deferred',
  delivered: 'delivered',
  dropped: 'dropped',
  bounced: 'bounced',
  complained: 'complained',
};
/** Statuses in which no provider has confirmed anything yet. */
const unconfirmed = ['queued', 'scheduled', 'held', 'retrying', 'failed', 'dead', 'cancelled'] as const satisfies readonly MessageStatus[];

describe('statusAfterEvent', () => {
  it('covers every event type, fate or fact', () => {
    expect([...fateEvents, ...factEvents].sort()).toEqual([...deliveryEventTypes].sort());
  });

  it.each(deliveryEventTypes)('leaves a message a worker is sending alone on %s', (type) => {
    expect(statusAfterEvent('sending', type)).toBeUndefined();
  });

  it.each(factEvents)('never changes the status on %s (an engagement or suppression fact)', (type) => {
    for (const status of messageStatuses) expect(statusAfterEvent(status, type)).toBeUndefined();
  });

  it.each(unconfirmed)('moves a %s message to the status of any fate event (the provider had it after all)', (status) => {
    for (const type of fateEvents) expect(statusAfterEvent(status, type)).toBe(statusOfFate[type]);
  });

  it.each([
    [
      'sent',
      {
        processed: undefined,
        deferred: 'deferred',
        delivered: 'delivered',
        dropped: 'dropped',
        bounced: 'bounced',
        complained: 'complained',
      },
    ],
    [
      'deferred',
      {
        processed: undefined,
        deferred: undefined,
        delivered: 'delivered',
        dropped: 'dropped',
        bounced: 'bounced',
        complained: 'complained',
      },
    ],
    [
      'delivered',
      { processed: undefined, deferred: undefined, delivered: undefined, dropped: 'dropped', bounced: 'bounced', complained: 'complained' },
    ],
    [
      'dropped',
      { processed: undefined, deferred: undefined, delivered: undefined, dropped: undefined, bounced: 'bounced', complained: 'complained' },
    ],
    [
      'bounced',
      { processed: undefined, deferred: undefined, delivered: undefined, dropped: undefined, bounced: undefined, complained: 'complained' },
    ],
    [
      'complained',
      { processed: undefined, deferred: undefined, delivered: undefined, dropped: undefined, bounced: undefined, complained: undefined },
    ],
  ] as const)('from %s moves only forward', (status, expected) => {
    for (const type of fateEvents) expect([type, statusAfterEvent(status, type)]).toEqual([type, expected[type]]);
  });

  it('keeps delivered after a late processed, and moves to bounced on a bounce after delivery', () => {
    expect(statusAfterEvent('delivered', 'processed')).toBeUndefined();
    expect(statusAfterEvent('delivered', 'deferred')).toBeUndefined();
    expect(statusAfterEvent('delivered', 'bounced')).toBe('bounced');
  });

  it('applies each event at most once: the status an event leads to is left alone by the same event', () => {
    for (const status of messageStatuses) {
      for (const type of deliveryEventTypes) {
        const next = statusAfterEvent(status, type);
        if (next !== undefined) expect([status, type, statusAfterEvent(next, type)]).toEqual([status, type, undefined]);
      }
    }
  });

  it('reaches the same status whatever order the events of a message arrive in, duplicates included', () => {
    const apply = (start: MessageStatus, events: readonly DeliveryEventType[]) =>
      events.reduce<MessageStatus>((status, type) => statusAfterEvent(status, type) ?? status, start);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pool: DeliveryEventType[] = [...deliveryEventTypes];
    for (let round = 0; round < 300; round += 1) {
      const events = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pool[Math.floor(random() * pool.length)] ?? 'unknown');
      const shuffled = [...events].sort(() => random() - 0.5);
      for (const start of ['sent', 'held', 'queued'] as const) {
        expect([start, events, apply(start, shuffled)]).toEqual([start, events, apply(start, events)]);
      }
    }
  });

  it('ends a message with one recipient dropped and another bounced in the same status in either order', () => {
    expect(statusAfterEvent(statusAfterEvent('sent', 'dropped') ?? 'sent', 'bounced')).toBe('bounced');
    expect(statusAfterEvent(statusAfterEvent('sent', 'bounced') ?? 'sent', 'dropped')).toBeUndefined();
  });
});

describe('suppressionReasonOf', () => {
  it('suppresses hard bounces, complaints and unsubscribes', () => {
    expect(suppressionReasonOf({ type: 'bounced', bounce: 'hard' })).toBe('hard_bounce');
    expect(suppressionReasonOf({ type: 'complained' })).toBe('complaint');
    expect(suppressionReasonOf({ type: 'unsubscribed' })).toBe('unsubscribe');
  });

  it('does not suppress soft, undetermined or unclassified bounces', () => {
    expect(suppressionReasonOf({ type: 'bounced', bounce: 'soft' })).toBeUndefined();
    expect(suppressionReasonOf({ type: 'bounced', bounce: 'undetermined' })).toBeUndefined();
    expect(suppressionReasonOf({ type: 'bounced' })).toBeUndefined();
  });

  it.each(['processed', 'delivered', 'deferred', 'dropped', 'opened', 'clicked', 'unknown'] as const)(
    'does not suppress on %s, even with a hard bounce class attached',
    (type) => {
      expect(suppressionReasonOf({ type })).toBeUndefined();
      expect(suppressionReasonOf({ type, bounce: 'hard' })).toBeUndefined();
    },
  );
});
