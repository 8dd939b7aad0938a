import type { Provider } from '@mailroute/core';
import { createCaptureProvider } from '@mailroute/providers/capture';
import { createSendGridProvider } from '@mailroute/providers/sendgrid';
import { createSesProvider } from '@mailroute/providers/ses';
import { createSmtpProvider } from '@mailroute/providers/smtp';
import type { ProviderConfig } from '../config/schema.js';

export function createProvider(config: ProviderConfig): Provider {
  switch (config.type) {
    case 'sendgrid':
      return createSendGridProvider(config);
    case 'ses':
      return createSesProvider(config);
    case 'smtp':
      return createSmtpProvider(config);
    case 'capture':
      return createCaptureProvider(config);
  }
}
