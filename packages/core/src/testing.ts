import { type ErrorCode, type MailErrorInit, mailError } from './errors.js';
import type { Message } from './model/message.js';
import { accepted, type Provider, rejected, type SendOutcome } from './provider.js';

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
