import {
  accepted,
  mailError,
  type Provider,
  type ProviderDetail,
  redact,
  rejected,
  type SendOutcome,
  type VerifyOutcome,
} from '@mailroute/core';
import { createSendGridConnection, type WireState } from './client.js';
import { type SendGridProviderConfigInput, sendGridProviderConfigSchema } from './config.js';
import { toSendGridMail } from './converter.js';
import { classifySendGridError, headerRecord, keptHeaders } from './errors.js';

export interface SendGridProviderDeps {
  /** Clock for rate-limit waits (epoch ms). */
  readonly now?: () => number;
}

const REQUIRED_SCOPE = 'mail.send';

/**
 * SendGrid's v3 Mail Send API through @sendgrid/mail, with this provider's own SDK objects.
 * `context.signal` aborts the HTTP request itself; whether the request had been written by
 * then decides between "never reached SendGrid" and "SendGrid may have it".
 */
export function createSendGridProvider(input: SendGridProviderConfigInput, deps: SendGridProviderDeps = {}): Provider {
  const config = sendGridProviderConfigSchema.parse(input);
  const now = deps.now ?? Date.now;
  const secrets = [config.apiKey];
  const connection = createSendGridConnection(config.apiKey, config.baseUrl);
  const failure = (error: unknown, wire: WireState) =>
    rejected(classifySendGridError(error, { provider: config.name, requestWritten: wire.written, secrets, now }));

  return {
    name: config.name,
    type: 'sendgrid',

    async send(message, context): Promise<SendOutcome> {
      const mail = toSendGridMail(message, { sandboxMode: config.sandboxMode, ipPoolName: config.ipPoolName });
      if (!mail.ok) return rejected({ ...mail.error, provider: config.name });
      const wire: WireState = { written: false };
      try {
        const response = await connection.send(mail.value, context.signal, wire);
        const headers = headerRecord(response.headers);
        const detail: ProviderDetail = { status: response.statusCode, headers: keptHeaders(headers), requestWritten: true };
        // Sandbox answers carry no X-Message-Id (and SendGrid has been seen to omit it); events
        // still find the message through custom_args.mailroute_id, which is our id.
        return accepted(headers['x-message-id'] ?? message.id, redact(detail, secrets));
      } catch (error) {
        return failure(error, wire);
      }
    },

    async verify(context = {}): Promise<VerifyOutcome> {
      const timeout = AbortSignal.timeout(config.verifyTimeoutMs);
      const signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
      const wire: WireState = { written: false };
      try {
        const [response, body] = await connection.get('/v3/scopes', signal, wire);
        const scopes = (body as { scopes?: unknown } | undefined)?.scopes;
        const detail: ProviderDetail = redact(
          { status: response.statusCode, headers: keptHeaders(headerRecord(response.headers)), requestWritten: true },
          secrets,
        );
        if (Array.isArray(scopes) && scopes.includes(REQUIRED_SCOPE)) return { ok: true, detail };
        return rejected(
          mailError('PROVIDER_AUTH', `${config.name}: the API key lacks the ${REQUIRED_SCOPE} scope`, {
            provider: config.name,
            detail: { ...detail, body: redact(body, secrets) },
          }),
        );
      } catch (error) {
        return failure(error, wire);
      }
    },

    async close() {
      connection.close();
    },
  };
}
