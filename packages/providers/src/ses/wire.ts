import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Node publishes every outgoing HTTP request here as it is created. */
const REQUEST_START_CHANNEL = 'http.client.request.start';

/** Whether the request of one call reached the wire, as far as this process can tell. */
export interface WireState {
  /** Set once the calling code says its own request is next (see `WireTracker.arm`). */
  armed: boolean;
  /** The whole request was handed to the operating system. */
  written: boolean;
}

/**
 * Tells whether a failed call's request had been written, which the AWS SDK does not report:
 * an abort or reset before writing means SES never saw the message (safe to send elsewhere),
 * after writing it may have (ambiguous). Requests are matched to calls through async context.
 *
 * Only requests started after `arm()` count: resolving credentials (instance metadata, STS)
 * makes HTTP requests of its own in the same context before the SES request exists.
 */
export interface WireTracker {
  run<T>(state: WireState, call: () => Promise<T>): Promise<T>;
  /** Marks the current call's next HTTP request as the one to watch. */
  arm(): void;
  close(): void;
}

export function createWireTracker(): WireTracker {
  const storage = new AsyncLocalStorage<WireState>();
  const onRequestStart = (message: unknown) => {
    const state = storage.getStore();
    if (!state?.armed) return;
    const { request } = message as { request: ClientRequest };
    request.once('finish', () => {
      state.written = true;
    });
  };
  subscribe(REQUEST_START_CHANNEL, onRequestStart);
  return {
    run: (state, call) => storage.run(state, call),
    arm() {
      const state = storage.getStore();
      if (state) state.armed = true;
    },
    close() {
      unsubscribe(REQUEST_START_CHANNEL, onRequestStart);
    },
  };
}

export function newWireState(): WireState {
  return { armed: false, written: false };
}
