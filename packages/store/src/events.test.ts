import { type AttemptRecord, type DeliveryEvent, type MessageStatus, mailError } from '@mailroute/core';
import { describe, expect, test } from 'vitest';
import { MAX_EVENTS_PER_INGEST, MAX_PAYLOAD_BYTES } from './events-input.js';
import type { MailStore } from './store.js';
import { forEachDatabase } from './test/databases.js';
import { acceptedAttempt, content, manualClock } from './test/fixtures.js';

const LEASE = 30_000;
const WINDOW = 60_000;

let eventCounter = 0;

/** A normalized event as a provider parser hands it over. */
function event(overrides: Partial<DeliveryEvent> & Pick<DeliveryEvent, 'type'>): DeliveryEvent {
  eventCounter += 1;
  const base: DeliveryEvent = {
    provider: 'sendgrid',
    providerType: 'sendgrid',
    providerEventId: `sg-event-${eventCounter}`,
    type: overrides.type,
    providerEventType: overrides.type,
    occurredAt: Date.UTC(2030, 0, 1, 9, 5, 0) + eventCounter,
    raw: { event: overrides.type, sg_event_id: `sg-event-${eventCounter}` },
  };
  return { ...base, ...overrides };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

forEachDatabase('event ingestion', (database) => {
  async function setup() {
    const clock = manualClock();
    const store = await database.open({ now: clock.now });
    return { clock, store };
  }

  /** A message accepted by `provider` (after the given earlier attempts), as the dispatcher leaves it. */
  async function sentMessage(
    store: MailStore,
    clock: ReturnType<typeof manualClock>,
    options: { to?: string; tenantId?: string; provider?: string; before?: (id: string) => AttemptRecord[] } = {},
  ) {
    const provider = options.provider ?? 'sendgrid';
    const { id } = await store.enqueue(content(options.to ? { to: [options.to] } : {}), { tenantId: options.tenantId ?? 'default' });
    await store.claim('worker', 1, LEASE);
    clock.advance(50);
    const providerMessageId = `pm-${id}`;
    const attempts = [...(options.before?.(id) ?? []), acceptedAttempt(id, clock.now() - 40, provider, providerMessageId)];
    await store.complete('worker', [{ kind: 'sent', id, provider, providerMessageId, attempts }]);
    return { id, providerMessageId, to: (options.to ?? '').toLowerCase() };
  }

  const count = async (table: string) => Number((await database.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

  test.each<[DeliveryEvent['type'], Partial<DeliveryEvent>, MessageStatus, string, boolean]>([
    ['processed', {}, 'sent', 'recorded', false],
    ['deferred', { reason: '421 try again later' }, 'deferred', 'applied', false],
    ['delivered', {}, 'delivered', 'applied', false],
    ['bounced', { bounce: 'hard', reason: '550 5.1.1 no such user' }, 'bounced', 'applied', true],
    ['bounced', { bounce: 'soft', reason: '552 mailbox full' }, 'bounced', 'applied', false],
    ['dropped', { reason: 'Bounced Address' }, 'dropped', 'applied', false],
    ['complained', {}, 'complained', 'applied', true],
    ['unsubscribed', {}, 'sent', 'recorded', true],
    ['opened', {}, 'sent', 'engagement', false],
    ['clicked', { url: 'https://hotel.example/booking' }, 'sent', 'engagement', false],
    ['unknown', { providerEventType: 'group_resubscribe' }, 'sent', 'recorded', false],
  ])('%s %j on a sent message -> %s, effect %s, suppressed %s', async (type, extra, status, effect, suppressed) => {
    const { clock, store } = await setup();
    const message = await sentMessage(store, clock, { to: 'Guest@Example.org' });
    const input = event({ type, mailrouteId: message.id, recipient: 'Guest@Example.org', ...extra });
    clock.advance(1_000);
    const report = await store.ingestEvents([input]);
    expect(report).toEqual({
      received: 1,
      stored: 1,
      duplicates: 0,
      applied: effect === 'applied' ? 1 : 0,
      unmatched: 0,
      suppressed: suppressed ? 1 : 0,
    });
    const detail = await store.getMessage(message.id);
    expect(detail?.status).toBe(status);
    expect(detail?.events).toEqual([
      {
        id: expect.any(String),
        type,
        providerEventType: input.providerEventType,
        provider: 'sendgrid',
        providerEventId: input.providerEventId,
        recipient: 'guest@example.org',
        ...(extra.reason === undefined ? {} : { reason: extra.reason }),
        effect,
        attemptId: detail?.attempts[0]?.id,
        occurredAt: input.occurredAt,
        receivedAt: clock.now(),
      },
    ]);
    if (effect === 'applied') {
      const last = detail?.transitions.at(-1);
      expect(last).toMatchObject({ from: 'sent', to: status, at: clock.now() });
      expect(last?.reason).toContain(`sendgrid's ${type} event ${input.providerEventId}`);
      if (extra.reason !== undefined) expect(last?.reason).toContain(extra.reason);
    } else {
      expect(detail?.transitions.at(-1)).toMatchObject({ from: 'sending', to: 'sent' });
    }
    expect(detail?.deliveredAt).toBe(type === 'delivered' ? input.occurredAt : undefined);
    expect(detail?.openedAt).toBe(type === 'opened' ? input.occurredAt : undefined);
    expect(detail?.clickedAt).toBe(type === 'clicked' ? input.occurredAt : undefined);
    const entries = await database.query<{ address: string; reason: string; source: string; event_id: string }>(
      'SELECT address, reason, source, event_id FROM suppression',
    );
    expect(entries).toEqual(
      suppressed
        ? [
            {
              address: 'guest@example.org',
              reason: { bounced: 'hard_bounce', complained: 'complaint', unsubscribed: 'unsubscribe' }[type as 'bounced'],
              source: 'webhook',
              event_id: detail?.events[0]?.id,
            },
          ]
        : [],
    );
    const [row] = await database.query<{ payload: unknown }>('SELECT payload FROM event');
    expect(typeof row?.payload === 'string' ? JSON.parse(row.payload) : row?.payload).toEqual(input.raw);
  });

  test('the same batch ingested three times changes the state once', async () => {
    const { clock, store } = await setup();
    const a = await sentMessage(store, clock, { to: 'a@example.org' });
    const b = await sentMessage(store, clock, { to: 'b@example.org' });
    const batch = [
      event({ type: 'processed', mailrouteId: a.id, recipient: a.to }),
      event({ type: 'delivered', mailrouteId: a.id, recipient: a.to }),
      event({ type: 'opened', mailrouteId: a.id, recipient: a.to }),
      event({ type: 'deferred', mailrouteId: b.id, recipient: b.to }),
      event({ type: 'bounced', bounce: 'hard', mailrouteId: b.id, recipient: b.to }),
      event({ type: 'delivered', mailrouteId: 'not-ours', recipient: 'x@example.org' }),
    ];
    const transitionsBefore = await count('message_transition');
    expect(await store.ingestEvents(batch)).toEqual({ received: 6, stored: 6, duplicates: 0, applied: 3, unmatched: 1, suppressed: 1 });
    const after = await Promise.all([a.id, b.id].map((id) => store.getMessage(id)));
    for (let round = 0; round < 2; round += 1) {
      clock.advance(1_000);
      expect(await store.ingestEvents(batch)).toEqual({ received: 6, stored: 0, duplicates: 6, applied: 0, unmatched: 0, suppressed: 0 });
    }
    expect(await count('event')).toBe(6);
    expect(await count('suppression')).toBe(1);
    expect(await count('message_transition')).toBe(transitionsBefore + 3);
    expect(await Promise.all([a.id, b.id].map((id) => store.getMessage(id)))).toEqual(after);
    expect(after.map((detail) => detail?.status)).toEqual(['delivered', 'bounced']);
  });

  test('duplicates inside one call count once', async () => {
    const { clock, store } = await setup();
    const message = await sentMessage(store, clock);
    const delivered = event({ type: 'delivered', mailrouteId: message.id });
    expect(await store.ingestEvents([delivered, delivered, { ...delivered, raw: { replayed: true } }])).toMatchObject({
      received: 3,
      stored: 1,
      duplicates: 2,
      applied: 1,
    });
    expect(await count('event')).toBe(1);
  });

  test('a burst of 46 duplicates out of order ends where the events in order end, each change once', async () => {
    const sequence = (id: string, to: string): DeliveryEvent[] =>
      [
        event({ type: 'processed', mailrouteId: id, recipient: to, occurredAt: 1_000 }),
        event({ type: 'deferred', mailrouteId: id, recipient: to, occurredAt: 2_000, reason: '421 greylisted' }),
        event({ type: 'delivered', mailrouteId: id, recipient: to, occurredAt: 3_000 }),
        event({ type: 'opened', mailrouteId: id, recipient: to, occurredAt: 4_000 }),
        event({ type: 'clicked', mailrouteId: id, recipient: to, occurredAt: 5_000 }),
        event({ type: 'opened', mailrouteId: id, recipient: to, occurredAt: 6_000 }),
        event({ type: 'bounced', bounce: 'hard', mailrouteId: id, recipient: to, occurredAt: 7_000, reason: '550 gone' }),
      ].map((item) => ({ ...item, occurredAt: Date.UTC(2030, 0, 1, 10) + item.occurredAt }));

    const inOrder = await setup();
    const first = await sentMessage(inOrder.store, inOrder.clock, { to: 'in-order@example.org' });
    for (const item of sequence(first.id, first.to)) await inOrder.store.ingestEvents([item]);
    const expected = await inOrder.store.getMessage(first.id);

    const burst = inOrder;
    const second = await sentMessage(burst.store, burst.clock, { to: 'burst@example.org' });
    const events = sequence(second.id, second.to);
    const copies = shuffled(
      Array.from({ length: 46 }, (_, index) => events[index % events.length] as DeliveryEvent),
      7,
    );
    const transitionsBefore = (await burst.store.getMessage(second.id))?.transitions.length ?? 0;
    let stored = 0;
    let duplicates = 0;
    for (let start = 0; start < copies.length; ) {
      const size = 1 + ((start * 7) % 9);
      const report = await burst.store.ingestEvents(copies.slice(start, start + size));
      stored += report.stored;
      duplicates += report.duplicates;
      start += size;
    }
    expect([stored, duplicates]).toEqual([events.length, 46 - events.length]);
    const actual = await burst.store.getMessage(second.id);
    expect(actual?.status).toBe('bounced');
    expect(actual?.status).toBe(expected?.status);
    expect([actual?.deliveredAt, actual?.openedAt, actual?.clickedAt]).toEqual([
      expected?.deliveredAt,
      expected?.openedAt,
      expected?.clickedAt,
    ]);
    expect(actual?.events.map((item) => [item.type, item.occurredAt])).toEqual(
      expected?.events.map((item) => [item.type, item.occurredAt]),
    );
    const steps = actual?.transitions.slice(transitionsBefore).map((step) => `${step.from}->${step.to}`) ?? [];
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.at(-1)).toMatch(/->bounced$/);
    const suppressions = await database.query<{ address: string; reason: string; event_id: string }>(
      'SELECT address, reason, event_id FROM suppression ORDER BY address',
    );
    const bounceOf = (detail: typeof actual) => detail?.events.find((item) => item.type === 'bounced')?.id;
    expect(suppressions).toEqual([
      { address: 'burst@example.org', reason: 'hard_bounce', event_id: bounceOf(actual) },
      { address: 'in-order@example.org', reason: 'hard_bounce', event_id: bounceOf(expected) },
    ]);
  });

  test('a late processed after delivered is stored and the status stays; a bounce after delivered moves on', async () => {
    const { clock, store } = await setup();
    const message = await sentMessage(store, clock);
    const t = Date.UTC(2030, 0, 1, 10);
    await store.ingestEvents([event({ type: 'delivered', mailrouteId: message.id, occurredAt: t + 2_000 })]);
    const late = await store.ingestEvents([event({ type: 'processed', mailrouteId: message.id, occurredAt: t })]);
    expect(late).toMatchObject({ stored: 1, applied: 0 });
    const deferred = await store.ingestEvents([event({ type: 'deferred', mailrouteId: message.id, occurredAt: t + 1_000 })]);
    expect(deferred).toMatchObject({ stored: 1, applied: 0 });
    let detail = await store.getMessage(message.id);
    expect(detail?.status).toBe('delivered');
    expect(detail?.events.map((item) => [item.type, item.effect])).toEqual([
      ['processed', 'recorded'],
      ['deferred', 'recorded'],
      ['delivered', 'applied'],
    ]);
    await store.ingestEvents([event({ type: 'bounced', bounce: 'soft', mailrouteId: message.id, occurredAt: t + 60_000 })]);
    detail = await store.getMessage(message.id);
    expect(detail?.status).toBe('bounced');
    expect(detail?.deliveredAt).toBe(t + 2_000);
    expect(detail?.transitions.slice(-2).map((step) => [step.from, step.to])).toEqual([
      ['sent', 'delivered'],
      ['delivered', 'bounced'],
    ]);
  });

  test('a held send confirmed by the provider leaves the queue for good', async () => {
    const { clock, store } = await setup();
    const confirmedIds: string[] = [];
    for (const type of ['processed', 'delivered'] as const) {
      const { id } = await store.enqueue(content());
      await store.claim('worker', 1, LEASE);
      const attempt: AttemptRecord = {
        messageId: id,
        provider: 'sendgrid',
        providerType: 'sendgrid',
        startedAt: clock.now(),
        finishedAt: clock.now() + 10_000,
        latencyMs: 10_000,
        outcome: 'failed',
        error: mailError('TIMEOUT', 'no answer in 10 s', { provider: 'sendgrid' }),
      };
      await store.complete('worker', [
        {
          kind: 'held',
          id,
          provider: 'sendgrid',
          until: clock.now() + WINDOW,
          error: mailError('TIMEOUT', 'no answer'),
          attempts: [attempt],
        },
      ]);
      expect(await store.getMessage(id)).toMatchObject({ status: 'held', heldProvider: 'sendgrid' });
      clock.advance(5_000);
      const report = await store.ingestEvents([event({ type, mailrouteId: id, providerMessageId: 'sg-held-1' })]);
      expect(report).toMatchObject({ stored: 1, applied: 1 });
      const detail = await store.getMessage(id);
      expect(detail).toMatchObject({ status: type === 'processed' ? 'sent' : 'delivered', provider: 'sendgrid' });
      expect(detail?.providerMessageId).toBe('sg-held-1');
      expect(detail?.sentAt).toBe(clock.now());
      expect(detail?.finishedAt).toBe(clock.now());
      expect(detail?.heldUntil).toBeUndefined();
      expect(detail?.heldProvider).toBeUndefined();
      expect(detail?.nextAttemptAt).toBeUndefined();
      expect(detail?.transitions.at(-1)).toMatchObject({ from: 'held', to: detail?.status });
      expect(detail?.transitions.at(-1)?.reason).toMatch(new RegExp(`^held send confirmed by sendgrid's ${type} event sg-event-\\d+`));
      expect(detail?.events[0]).toMatchObject({ effect: 'applied', attemptId: detail?.attempts[0]?.id });
      confirmedIds.push(id);
    }
    clock.advance(WINDOW * 2);
    expect(await store.nextDueAt()).toBeUndefined();
    expect(await store.claim('worker', 10, LEASE)).toEqual([]);
    expect(confirmedIds).toHaveLength(2);
  });

  test('a message a worker holds is left to the worker; the event is recorded', async () => {
    const { store } = await setup();
    const { id } = await store.enqueue(content());
    await store.claim('worker', 1, LEASE);
    expect(await store.ingestEvents([event({ type: 'delivered', mailrouteId: id })])).toMatchObject({ stored: 1, applied: 0 });
    const detail = await store.getMessage(id);
    expect(detail).toMatchObject({ status: 'sending', leaseOwner: 'worker' });
    expect(detail?.events[0]?.effect).toBe('recorded');
    expect(detail?.deliveredAt).toBeDefined();
  });

  describe('events that arrive while a worker sends apply once its result is stored', () => {
    /** A message claimed by a worker; `finish` completes it as the worker would, with one accepted attempt. */
    async function sending(store: MailStore, clock: ReturnType<typeof manualClock>, to = 'guest@example.org') {
      const { id } = await store.enqueue(content({ to: [to] }));
      const startedAt = clock.now();
      await store.claim('worker', 1, LEASE);
      const providerMessageId = `pm-${id}`;
      return {
        id,
        providerMessageId,
        finish: () =>
          store.complete('worker', [
            {
              kind: 'sent',
              id,
              provider: 'sendgrid',
              providerMessageId,
              attempts: [acceptedAttempt(id, startedAt, 'sendgrid', providerMessageId)],
            },
          ]),
      };
    }

    const steps = (transitions: readonly { from?: string; to: string }[] | undefined) =>
      transitions?.map((step) => `${step.from ?? ''}>${step.to}`);

    test('a delivered event: the message ends delivered, one transition each, event applied and linked to the attempt', async () => {
      const { clock, store } = await setup();
      const message = await sending(store, clock);
      clock.advance(20);
      const delivered = event({ type: 'delivered', mailrouteId: message.id, providerMessageId: message.providerMessageId });
      expect(await store.ingestEvents([delivered])).toMatchObject({ stored: 1, applied: 0 });
      clock.advance(30);
      await message.finish();
      const detail = await store.getMessage(message.id);
      expect(detail).toMatchObject({ status: 'delivered', provider: 'sendgrid', deliveredAt: delivered.occurredAt });
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent', 'sent>delivered']);
      expect(detail?.transitions.at(-1)?.reason).toBe(`delivered reported by sendgrid's delivered event ${delivered.providerEventId}`);
      expect(detail?.events).toEqual([expect.objectContaining({ effect: 'applied', attemptId: detail?.attempts[0]?.id })]);
      // The same event again, and a repeated completion, change nothing.
      expect(await store.ingestEvents([delivered])).toMatchObject({ stored: 0, duplicates: 1 });
      await message.finish();
      expect((await store.getMessage(message.id))?.transitions).toEqual(detail?.transitions);
    });

    test('a hard bounce: the message ends bounced, the address suppressed by that event', async () => {
      const { clock, store } = await setup();
      const message = await sending(store, clock, 'Nobody@Example.org');
      const bounce = event({
        type: 'bounced',
        bounce: 'hard',
        reason: '550 5.1.1 no such user',
        mailrouteId: message.id,
        recipient: 'nobody@example.org',
      });
      expect(await store.ingestEvents([bounce])).toMatchObject({ stored: 1, applied: 0, suppressed: 1 });
      await message.finish();
      const detail = await store.getMessage(message.id);
      expect(detail?.status).toBe('bounced');
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent', 'sent>bounced']);
      expect(detail?.transitions.at(-1)?.reason).toContain('550 5.1.1 no such user');
      expect(detail?.events).toEqual([expect.objectContaining({ type: 'bounced', effect: 'applied', attemptId: detail?.attempts[0]?.id })]);
      const { items } = await store.listSuppressions({ address: 'nobody@example.org' });
      expect(items).toEqual([expect.objectContaining({ reason: 'hard_bounce', eventId: detail?.events[0]?.id })]);
    });

    test('several events apply in the order they happened, whatever order they came in', async () => {
      const { clock, store } = await setup();
      const message = await sending(store, clock);
      const deferred = event({ type: 'deferred', mailrouteId: message.id, reason: '421 try later' });
      const delivered = event({ type: 'delivered', mailrouteId: message.id });
      await store.ingestEvents([delivered]);
      await store.ingestEvents([deferred]);
      await message.finish();
      const detail = await store.getMessage(message.id);
      expect(detail?.status).toBe('delivered');
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent', 'sent>deferred', 'deferred>delivered']);
      expect(detail?.events.map((stored) => stored.effect)).toEqual(['applied', 'applied']);
    });

    test('a held send: the processed event that came during the send confirms it and it leaves the queue', async () => {
      const { clock, store } = await setup();
      const { id } = await store.enqueue(content());
      await store.claim('worker', 1, LEASE);
      const processed = event({ type: 'processed', mailrouteId: id, providerMessageId: 'sg-held-2' });
      await store.ingestEvents([processed]);
      const attempt: AttemptRecord = {
        messageId: id,
        provider: 'sendgrid',
        providerType: 'sendgrid',
        startedAt: clock.now(),
        finishedAt: clock.now() + 10_000,
        latencyMs: 10_000,
        outcome: 'failed',
        error: mailError('TIMEOUT', 'no answer in 10 s', { provider: 'sendgrid' }),
      };
      clock.advance(10_000);
      const until = clock.now() + WINDOW;
      await store.complete('worker', [
        { kind: 'held', id, provider: 'sendgrid', until, error: mailError('TIMEOUT', 'no answer'), attempts: [attempt] },
      ]);
      const detail = await store.getMessage(id);
      expect(detail).toMatchObject({ status: 'sent', provider: 'sendgrid', providerMessageId: 'sg-held-2', finishedAt: clock.now() });
      expect(detail?.heldUntil).toBeUndefined();
      expect(detail?.nextAttemptAt).toBeUndefined();
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>held', 'held>sent']);
      expect(detail?.transitions.at(-1)?.reason).toMatch(/^held send confirmed by sendgrid's processed event/);
      expect(detail?.events).toEqual([expect.objectContaining({ effect: 'applied', attemptId: detail?.attempts[0]?.id })]);
      clock.advance(WINDOW * 2);
      expect(await store.claim('worker', 10, LEASE)).toEqual([]);
    });

    test('an event racing the completion lands once whichever commits first', async () => {
      const { clock, store } = await setup();
      const messages = [];
      for (let index = 0; index < 12; index += 1) messages.push(await sending(store, clock));
      await Promise.all(
        messages.map((message) =>
          Promise.all([store.ingestEvents([event({ type: 'delivered', mailrouteId: message.id })]), message.finish()]),
        ),
      );
      for (const message of messages) {
        const detail = await store.getMessage(message.id);
        expect(detail?.status).toBe('delivered');
        expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent', 'sent>delivered']);
        expect(detail?.events).toEqual([expect.objectContaining({ effect: 'applied', attemptId: detail?.attempts[0]?.id })]);
      }
    });

    test('a worker that died after the provider took the mail: lease recovery applies the events and it is not sent again', async () => {
      const { clock, store } = await setup();
      const message = await sending(store, clock);
      const delivered = event({ type: 'delivered', mailrouteId: message.id, providerMessageId: message.providerMessageId });
      await store.ingestEvents([delivered]);
      clock.advance(LEASE + 1);
      expect(await store.recoverExpiredLeases()).toBe(1);
      const detail = await store.getMessage(message.id);
      expect(detail).toMatchObject({ status: 'delivered', provider: 'sendgrid', providerMessageId: message.providerMessageId });
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>queued', 'queued>delivered']);
      expect(detail?.transitions.at(-1)?.reason).toMatch(/^queued message confirmed by sendgrid's delivered event/);
      expect(detail?.events).toEqual([expect.objectContaining({ effect: 'applied' })]);
      expect(await store.claim('worker', 10, LEASE)).toEqual([]);
      // Without events, recovery puts the message back in the queue as before.
      const quiet = await sending(store, clock);
      clock.advance(LEASE + 1);
      expect(await store.recoverExpiredLeases()).toBe(1);
      expect((await store.getMessage(quiet.id))?.status).toBe('queued');
    });

    test('without status events the completion is unchanged; opens and unknown events keep their effect', async () => {
      const { clock, store } = await setup();
      const quiet = await sending(store, clock);
      await quiet.finish();
      const plain = await store.getMessage(quiet.id);
      expect(plain?.status).toBe('sent');
      expect(steps(plain?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent']);
      expect(plain?.events).toEqual([]);

      const engaged = await sending(store, clock);
      const opened = event({ type: 'opened', mailrouteId: engaged.id });
      await store.ingestEvents([opened, event({ type: 'unknown', providerEventType: 'group_resubscribe', mailrouteId: engaged.id })]);
      await engaged.finish();
      const detail = await store.getMessage(engaged.id);
      expect(detail).toMatchObject({ status: 'sent', openedAt: opened.occurredAt });
      expect(steps(detail?.transitions)).toEqual(['>queued', 'queued>sending', 'sending>sent']);
      expect(detail?.events.map((stored) => stored.effect)).toEqual(['engagement', 'recorded']);
    });
  });

  test("an attempt abandoned after failover: its provider's events link to it and land on the message", async () => {
    const { clock, store } = await setup();
    const timedOut = (id: string): AttemptRecord[] => [
      {
        messageId: id,
        provider: 'sendgrid',
        providerType: 'sendgrid',
        startedAt: clock.now() - 45,
        finishedAt: clock.now() - 44,
        latencyMs: 1,
        outcome: 'failed',
        error: mailError('CONNECTION_RESET', 'socket hang up', { provider: 'sendgrid' }),
      },
    ];
    const message = await sentMessage(store, clock, { provider: 'ses', before: timedOut, to: 'guest@example.org' });
    const attempts = (await store.getMessage(message.id))?.attempts ?? [];
    expect(attempts.map((attempt) => attempt.provider)).toEqual(['sendgrid', 'ses']);
    const [sendgridAttempt, sesAttempt] = attempts;
    await store.ingestEvents([
      event({ type: 'delivered', provider: 'sendgrid', mailrouteId: message.id, providerMessageId: 'sg-unknown' }),
      // Without our id: SES's message id and the recipient find the attempt and the message.
      event({
        type: 'delivered',
        provider: 'ses',
        providerType: 'ses',
        providerMessageId: message.providerMessageId,
        recipient: message.to,
      }),
      event({ type: 'opened', provider: 'ses', providerType: 'ses', providerMessageId: message.providerMessageId, recipient: message.to }),
    ]);
    const detail = await store.getMessage(message.id);
    expect(detail?.status).toBe('delivered');
    expect(detail?.events.map((item) => [item.provider, item.attemptId])).toEqual([
      ['sendgrid', sendgridAttempt?.id],
      ['ses', sesAttempt?.id],
      ['ses', sesAttempt?.id],
    ]);
  });

  test('the provider message id finds a message only on the provider that issued it', async () => {
    const { clock, store } = await setup();
    const message = await sentMessage(store, clock);
    const report = await store.ingestEvents([
      event({ type: 'delivered', provider: 'ses', providerType: 'ses', providerMessageId: message.providerMessageId }),
    ]);
    expect(report).toMatchObject({ stored: 1, unmatched: 1 });
    expect((await store.getMessage(message.id))?.status).toBe('sent');
  });

  test('a provider that reuses its message ids: the recipient decides which message an event is about', async () => {
    const { clock, store } = await setup();
    const reused = (id: string): AttemptRecord[] => [acceptedAttempt(id, clock.now() - 40, 'sendgrid', 'reused-id')];
    const first = await sentMessage(store, clock, { to: 'first@example.org', before: reused });
    const second = await sentMessage(store, clock, { to: 'second@example.org', before: reused });
    clock.advance(1_000);
    const report = await store.ingestEvents([
      event({
        type: 'bounced',
        bounce: 'hard',
        providerMessageId: 'reused-id',
        recipient: 'Second@Example.org',
        reason: '550 no such user',
      }),
      event({ type: 'bounced', bounce: 'hard', providerMessageId: 'reused-id', recipient: 'stranger@example.org', reason: '550 gone' }),
      event({ type: 'delivered', providerMessageId: 'reused-id' }),
    ]);
    expect(report).toMatchObject({ stored: 3, applied: 1, unmatched: 2, suppressed: 1 });
    expect((await store.getMessage(first.id))?.status).toBe('sent');
    expect((await store.getMessage(first.id))?.events).toEqual([]);
    expect((await store.getMessage(second.id))?.status).toBe('bounced');
    expect(await database.query('SELECT address FROM suppression')).toEqual([{ address: 'second@example.org' }]);
    const unmatched = await database.query<{ recipient: string | null; reason: string; message_id: string | null }>(
      "SELECT recipient, reason, message_id FROM event WHERE effect = 'unmatched' ORDER BY occurred_at",
    );
    expect(unmatched).toEqual([
      {
        recipient: 'stranger@example.org',
        reason: 'unmatched: stranger@example.org is not a recipient of the message sendgrid message id reused-id leads to; 550 gone',
        message_id: null,
      },
      { recipient: null, reason: 'unmatched: sendgrid message id reused-id without our id or a recipient to check', message_id: null },
    ]);
  });

  test('unmatched events are stored without a message, never dropped, and suppress nobody', async () => {
    const { store } = await setup();
    const report = await store.ingestEvents([
      event({ type: 'bounced', bounce: 'hard', mailrouteId: 'someone-else', providerMessageId: 'nope', recipient: 'who@example.org' }),
      event({ type: 'unknown', providerEventType: 'group_resubscribe' }),
    ]);
    expect(report).toEqual({ received: 2, stored: 2, duplicates: 0, applied: 0, unmatched: 2, suppressed: 0 });
    const rows = await database.query<{ message_id: string | null; attempt_id: string | null; effect: string; type: string }>(
      'SELECT message_id, attempt_id, effect, type FROM event ORDER BY occurred_at',
    );
    expect(rows).toEqual([
      { message_id: null, attempt_id: null, effect: 'unmatched', type: 'bounced' },
      { message_id: null, attempt_id: null, effect: 'unmatched', type: 'unknown' },
    ]);
    expect(await count('suppression')).toBe(0);
  });

  test("a suppression from an event lands on the message's tenant; retry keeps that mail back; an existing entry stays", async () => {
    const { clock, store } = await setup();
    const bounced = await sentMessage(store, clock, { to: 'Gone@Example.org', tenantId: 'hotel' });
    const { id: failed } = await store.enqueue(content({ to: ['gone@example.org'] }), { tenantId: 'hotel' });
    await store.claim('worker', 1, LEASE);
    await store.complete('worker', [{ kind: 'failed', id: failed, error: mailError('NO_PROVIDER', 'all failed'), attempts: [] }]);
    await store.addSuppression({ address: 'kept@example.org', reason: 'asked by phone', source: 'operator', tenantId: 'hotel' });
    const kept = await sentMessage(store, clock, { to: 'kept@example.org', tenantId: 'hotel' });

    const report = await store.ingestEvents([
      event({ type: 'bounced', bounce: 'hard', mailrouteId: bounced.id, recipient: 'GONE@example.org', reason: '550 5.1.1' }),
      event({ type: 'complained', mailrouteId: kept.id, recipient: 'kept@example.org' }),
    ]);
    expect(report.suppressed).toBe(1);
    const rows = await database.query<{ tenant_id: string; address: string; reason: string; source: string; event_id: string | null }>(
      'SELECT tenant_id, address, reason, source, event_id FROM suppression ORDER BY address',
    );
    const eventId = (await store.getMessage(bounced.id))?.events[0]?.id;
    expect(rows).toEqual([
      { tenant_id: 'hotel', address: 'gone@example.org', reason: 'hard_bounce', source: 'webhook', event_id: eventId },
      { tenant_id: 'hotel', address: 'kept@example.org', reason: 'asked by phone', source: 'operator', event_id: null },
    ]);
    // What mail.send checks before it enqueues.
    expect(await store.suppressedAmong(['gone@example.org'], { tenantId: 'hotel' })).toEqual(new Set(['gone@example.org']));
    expect(await store.suppressedAmong(['gone@example.org'], { tenantId: 'default' })).toEqual(new Set());
    const retry = await store.retryMessages({ target: { ids: [failed] } });
    expect(retry).toMatchObject({
      matched: 1,
      requeued: 0,
      keptBackCount: { suppressed: 1 },
      keptBack: [{ id: failed, reason: 'suppressed', addresses: ['gone@example.org'] }],
    });
    expect((await store.getMessage(failed))?.status).toBe('failed');
  });

  test('listMessages filters by the statuses events give', async () => {
    const { clock, store } = await setup();
    const byStatus: Partial<Record<MessageStatus, string>> = {};
    const plan: [MessageStatus, Partial<DeliveryEvent> & Pick<DeliveryEvent, 'type'>][] = [
      ['delivered', { type: 'delivered' }],
      ['bounced', { type: 'bounced', bounce: 'soft' }],
      ['dropped', { type: 'dropped' }],
      ['complained', { type: 'complained' }],
      ['deferred', { type: 'deferred' }],
    ];
    for (const [status, input] of plan) {
      const message = await sentMessage(store, clock);
      await store.ingestEvents([event({ ...input, mailrouteId: message.id })]);
      byStatus[status] = message.id;
    }
    const untouched = await sentMessage(store, clock);
    for (const [status] of plan) {
      expect((await store.listMessages({ status: [status] })).items.map((item) => item.id)).toEqual([byStatus[status]]);
    }
    expect((await store.listMessages({ status: ['sent'] })).items.map((item) => item.id)).toEqual([untouched.id]);
    const finals = (await store.listMessages({ status: ['delivered', 'bounced'] })).items.map((item) => item.id).sort();
    expect(finals).toEqual([byStatus.delivered, byStatus.bounced].sort());
    expect((await store.listMessages({ status: ['delivered'] })).items[0]?.deliveredAt).toBeDefined();
  });

  test('concurrent ingestion of the same events applies them once', async () => {
    const { clock, store } = await setup();
    // Two connections to one SQLite file in one process would wait on each other's lock with
    // the event loop blocked; a process has one store there, and its transactions take turns.
    const other = database.dialect === 'postgres' ? await database.open({ now: clock.now }) : store;
    const messages = [];
    for (let index = 0; index < 5; index += 1) messages.push(await sentMessage(store, clock, { to: `c${index}@example.org` }));
    const batch = messages.flatMap((message) => [
      event({ type: 'delivered', mailrouteId: message.id }),
      event({ type: 'complained', mailrouteId: message.id, recipient: message.to }),
    ]);
    const reports = await Promise.all([store, other, store, other].map((target) => target.ingestEvents(batch)));
    expect(reports.reduce((sum, report) => sum + report.stored, 0)).toBe(batch.length);
    expect(reports.reduce((sum, report) => sum + report.applied, 0)).toBe(batch.length);
    expect(reports.reduce((sum, report) => sum + report.suppressed, 0)).toBe(messages.length);
    expect(await count('event')).toBe(batch.length);
    for (const message of messages) {
      const detail = await store.getMessage(message.id);
      expect(detail?.status).toBe('complained');
      expect(detail?.transitions.slice(-2).map((step) => step.to)).toEqual(['delivered', 'complained']);
    }
  });

  test('untrusted input is bounded: long ids, NUL bytes, huge payloads, bad times; broken events refuse the call', async () => {
    const { clock, store } = await setup();
    const message = await sentMessage(store, clock);
    const longId = 'x'.repeat(5_000);
    const huge = { blob: 'y'.repeat(MAX_PAYLOAD_BYTES * 2) };
    const report = await store.ingestEvents([
      event({
        type: 'bounced',
        bounce: 'soft',
        providerEventId: longId,
        mailrouteId: message.id,
        reason: `bad\u0000 reply ${'z'.repeat(5_000)}`,
        recipient: `${'r'.repeat(400)}@example.org`,
        raw: huge,
      }),
      event({ type: 'opened', mailrouteId: message.id, occurredAt: Number.NaN, raw: { text: 'nul \u0000 and lone \ud800 here' } }),
      event({ type: 'clicked', mailrouteId: message.id, occurredAt: -8.64e15 }),
      event({ type: 'processed', mailrouteId: message.id, occurredAt: clock.now() + 10 * 86_400_000 }),
    ]);
    expect(report).toMatchObject({ stored: 4, applied: 1 });
    expect(await store.ingestEvents([event({ type: 'bounced', providerEventId: longId, mailrouteId: message.id })])).toMatchObject({
      duplicates: 1,
    });
    const detail = await store.getMessage(message.id);
    const bounce = detail?.events.find((item) => item.type === 'bounced');
    expect(bounce?.providerEventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bounce?.reason).toHaveLength(1_000);
    expect(bounce?.reason?.startsWith('bad\ufffd reply')).toBe(true);
    expect(bounce?.recipient).toBeUndefined();
    expect(detail?.events.filter((item) => item.type !== 'bounced').map((item) => item.occurredAt)).toEqual([
      clock.now(),
      clock.now(),
      clock.now(),
    ]);
    const payloads = await database.query<{ payload: unknown }>(
      "SELECT payload FROM event ORDER BY CASE type WHEN 'bounced' THEN 0 ELSE 1 END",
    );
    const parsed = payloads.map((row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload));
    expect(parsed[0]).toMatchObject({ truncated: true, bytes: JSON.stringify(huge).length });
    expect(JSON.stringify(parsed[0]).length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(parsed[1]).toEqual({ text: 'nul \ufffd and lone \ufffd here' });

    await expect(store.ingestEvents([event({ type: 'delivered', providerEventId: '  ' })])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.ingestEvents([event({ type: 'delivered', provider: '' })])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const tooMany = Array.from({ length: MAX_EVENTS_PER_INGEST + 1 }, () => event({ type: 'opened' }));
    await expect(store.ingestEvents(tooMany)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await count('event')).toBe(4);
  });
});
