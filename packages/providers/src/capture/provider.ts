import { randomUUID } from 'node:crypto';
import { accepted, mailError, type Provider, rejected, type SendOutcome, type VerifyOutcome } from '@mailroute/core';
import { type CaptureProviderConfigInput, captureProviderConfigSchema } from './config.js';
import { type CapturedMessage, toCaptureRecord, toMime } from './converter.js';
import { classifyCaptureError } from './errors.js';
import { folderStore, memoryStore } from './store.js';

export interface CaptureProvider extends Provider {
  /** Captured messages, oldest first. */
  list(): Promise<CapturedMessage[]>;
  /** The latest capture with this provider message id (`capture-...`) or our message id. */
  get(id: string): Promise<CapturedMessage | undefined>;
  clear(): Promise<void>;
}

/**
 * Keeps mail instead of sending it: the default when no provider credentials are configured,
 * and a window onto exactly what would have gone out (the `.eml` is the SMTP provider's MIME).
 */
export function createCaptureProvider(input: CaptureProviderConfigInput): CaptureProvider {
  const config = captureProviderConfigSchema.parse(input);
  const store = config.directory === undefined ? memoryStore(config.maxInMemory) : folderStore(config.directory);
  const { name } = config;

  const list = () => store.list();

  return {
    name,
    type: 'capture',

    async send(message, context): Promise<SendOutcome> {
      // A capture takes milliseconds, so only an abort that came before it is honoured.
      if (context.signal.aborted) {
        return rejected(
          mailError('PROVIDER_UNREACHABLE', `${name} was cut off before capturing`, { provider: name, detail: { requestWritten: false } }),
        );
      }
      const providerMessageId = `capture-${randomUUID()}`;
      try {
        const raw = await toMime(message);
        await store.put(toCaptureRecord(message, providerMessageId, new Date()), raw);
        return accepted(providerMessageId, { body: { stored: config.directory ?? 'memory' } });
      } catch (error) {
        return rejected(classifyCaptureError(error, name));
      }
    },

    async verify(): Promise<VerifyOutcome> {
      try {
        await store.check();
        return { ok: true };
      } catch (error) {
        return rejected(classifyCaptureError(error, name));
      }
    },

    close: async () => {},
    list,
    async get(id) {
      return (await list()).findLast((captured) => captured.providerMessageId === id || captured.messageId === id);
    },
    clear: () => store.clear(),
  };
}
