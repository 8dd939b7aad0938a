import type { DispatchOutcome, DispatchQueue } from './dispatcher/queue.js';
import { type ErrorCode, type MailErrorInit, mailError } from './errors.js';
import type { Message } from './model/message.js';
import { accepted, type Provider, rejected, type SendOutcome } from './provider.js';
import type { AttemptRecord } from './router/events.js';

/**
 * A provider whose every answer is scripted, for router, dispatcher and benchmark tests
 * that need exact control of timing and failures without a network.
 */
export type Behaviour =
  | { readonly kind: 'accept'; readonly latencyMs?: number }
  | { readonly kind: 'fail'; readonly code: ErrorCode; readonly latencyMs?: number; readonly init?: MailErrorInit }
  /** Never answers until aborted; then reports that the request had been written. */
  | { readonly kind: 'hang' };

export interface ScriptedProvider extends Provider {
  behaviour: Behaviour;
  readonly calls: Message[];
  readonly accepted: Message[];
  inFlight: number;
  maxInFlight: number;
  /** Resets the call log and counters, keeping the behaviour. */
  reset(): void;
}

export function createScriptedProvider(name: string, behaviour: Behaviour = { kind: 'accept' }, type = 'scripted'): ScriptedProvider {
  let sequence = 0;
  const provider: ScriptedProvider = {
    name,
    type,
    behaviour,
    calls: [],
    accepted: [],
    inFlight: 0,
    maxInFlight: 0,
    reset() {
      provider.calls.length = 0;
      provider.accepted.length = 0;
      provider.inFlight = 0;
      provider.maxInFlight = 0;
    },
    async send(message, { signal }) {
      provider.calls.push(message);
      provider.inFlight += 1;
      provider.maxInFlight = Math.max(provider.maxInFlight, provider.inFlight);
      try {
        return await answer(provider.behaviour, message, signal);
      } finally {
        provider.inFlight -= 1;
      }
    },
    verify: async () => ({ ok: true }),
    close: async () => {},
  };

  async function answer(current: Behaviour, message: Message, signal: AbortSignal): Promise<SendOutcome> {
    if (current.kind === 'hang') {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return rejected(mailError('TIMEOUT', `${name} aborted`, { provider: name, detail: { requestWritten: true } }));
    }
    if (current.latencyMs) await sleep(current.latencyMs, signal);
    if (signal.aborted) {
      return rejected(mailError('TIMEOUT', `${name} aborted`, { provider: name, detail: { requestWritten: true } }));
    }
    if (current.kind === 'fail') {
      return rejected(mailError(current.code, `${name} scripted ${current.code}`, { provider: name, ...current.init }));
    }
    provider.accepted.push(message);
    sequence += 1;
    return accepted(`${name}-${sequence}`);
  }

  return provider;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

let counter = 0;

/** A valid message with a fresh id, for tests. */
export function sampleMessage(overrides: Partial<Message> = {}): Message {
  counter += 1;
  return {
    id: `msg-${counter}`,
    from: { email: 'sender@example.com', name: 'Sender' },
    to: [{ email: 'guest@example.org' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Your booking is confirmed',
    text: 'See you soon.',
    attachments: [],
    headers: {},
    tags: [],
    metadata: {},
    ...overrides,
  };
}

interface MemoryRow {
  message: Message;
  status: 'queued' | 'scheduled' | 'sending' | 'held' | 'sent' | 'retrying' | 'failed' | 'dead';
  rounds: number;
  acceptedAt: number;
  dueAt: number;
  leaseOwner?: string | undefined;
  leaseExpiresAt?: number | undefined;
  heldProvider?: string | undefined;
  outcome?: DispatchOutcome;
}

export interface MemoryQueue extends DispatchQueue {
  enqueue(message: Message, options?: { sendAt?: number }): void;
  row(id: string): MemoryRow | undefined;
  rows(): MemoryRow[];
  readonly attempts: AttemptRecord[];
  completeCalls: number;
}

/** An in-memory DispatchQueue with the store's lease semantics, for dispatcher tests. */
export function createMemoryQueue(now: () => number = Date.now): MemoryQueue {
  const rows = new Map<string, MemoryRow>();
  const listeners = new Set<() => void>();
  const claimable = (row: MemoryRow, at: number) =>
    ((row.status === 'queued' || row.status === 'scheduled' || row.status === 'retrying') && row.dueAt <= at) ||
    (row.status === 'held' && row.dueAt <= at);
  const queue: MemoryQueue = {
    attempts: [],
    completeCalls: 0,
    enqueue(message, { sendAt } = {}) {
      const at = now();
      const scheduled = sendAt !== undefined && sendAt > at;
      rows.set(message.id, { message, status: scheduled ? 'scheduled' : 'queued', rounds: 0, acceptedAt: at, dueAt: sendAt ?? at });
      for (const listener of listeners) listener();
    },
    row: (id) => rows.get(id),
    rows: () => [...rows.values()],
    async claim(owner, limit, leaseMs) {
      const at = now();
      const due = [...rows.values()].filter((row) => claimable(row, at)).sort((a, b) => a.dueAt - b.dueAt);
      return due.slice(0, limit).map((row) => {
        row.status = 'sending';
        row.leaseOwner = owner;
        row.leaseExpiresAt = at + leaseMs;
        const claimed = { message: row.message, rounds: row.rounds, acceptedAt: row.acceptedAt, leaseExpiresAt: at + leaseMs };
        return row.heldProvider ? { ...claimed, exclude: [row.heldProvider] } : claimed;
      });
    },
    async extendLeases(owner, ids, leaseMs) {
      for (const id of ids) {
        const row = rows.get(id);
        if (row?.leaseOwner === owner && row.status === 'sending') row.leaseExpiresAt = now() + leaseMs;
      }
    },
    async complete(owner, outcomes) {
      queue.completeCalls += 1;
      for (const outcome of outcomes) {
        queue.attempts.push(...outcome.attempts);
        const row = rows.get(outcome.id);
        if (!row || row.leaseOwner !== owner || row.status !== 'sending') continue;
        row.outcome = outcome;
        row.leaseOwner = undefined;
        row.leaseExpiresAt = undefined;
        switch (outcome.kind) {
          case 'sent':
          case 'failed':
          case 'dead':
            row.status = outcome.kind;
            break;
          case 'retry':
            row.status = 'retrying';
            row.rounds += 1;
            row.dueAt = outcome.at;
            break;
          case 'held':
            row.status = 'held';
            row.dueAt = outcome.until;
            row.heldProvider = outcome.provider;
            break;
        }
      }
    },
    async release(owner, ids) {
      for (const id of ids) {
        const row = rows.get(id);
        if (row?.leaseOwner === owner && row.status === 'sending') {
          row.status = 'queued';
          row.leaseOwner = undefined;
        }
      }
    },
    async recoverExpiredLeases() {
      let recovered = 0;
      for (const row of rows.values()) {
        if (row.status === 'sending' && (row.leaseExpiresAt ?? 0) <= now()) {
          row.status = 'queued';
          row.leaseOwner = undefined;
          recovered += 1;
        }
      }
      return recovered;
    },
    async nextDueAt() {
      const waiting = [...rows.values()].filter((row) => ['scheduled', 'retrying', 'held'].includes(row.status));
      return waiting.length === 0 ? undefined : Math.min(...waiting.map((row) => row.dueAt));
    },
    onEnqueued(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return queue;
}
