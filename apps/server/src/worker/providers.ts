import type { Provider } from '@mailroute/core';
import type { ProviderConfig } from '../config/schema.js';

/**
 * Each provider's SDK is imported when a configuration first names its type: a worker that
 * only relays through SMTP never loads the HTTP providers' code, and the other way round.
 */
export async function createProvider(config: ProviderConfig): Promise<Provider> {
  switch (config.type) {
    case 'sendgrid':
      return (await import('@mailroute/providers/sendgrid')).createSendGridProvider(config);
    case 'ses':
      return (await import('@mailroute/providers/ses')).createSesProvider(config);
    case 'smtp':
      return (await import('@mailroute/providers/smtp')).createSmtpProvider(config);
    case 'capture':
      return (await import('@mailroute/providers/capture')).createCaptureProvider(config);
  }
}
