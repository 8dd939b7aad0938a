import { GetSendQuotaCommand, SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import {
  accepted,
  type MailError,
  type Message,
  mailError,
  type Provider,
  type ProviderDetail,
  redact,
  rejected,
  type SendContext,
  type SendOutcome,
  type VerifyOutcome,
} from '@mailroute/core';
import { type SesProviderConfig, type SesProviderConfigInput, sesProviderConfigSchema } from './config.js';
import { type SesSendRequest, toSendRawEmailInput } from './converter.js';
import { classifySesError } from './errors.js';
import { createWireTracker, newWireState, type WireState } from './wire.js';

/** Amazon SES (v1 API) through SendRawEmail, so attachments, inline images and headers survive as built. */
export function createSesProvider(input: SesProviderConfigInput): Provider {
  const config = sesProviderConfigSchema.parse(input);
  const { name } = config;
  const secrets = [config.credentials?.secretAccessKey, config.credentials?.sessionToken].filter(
    (secret): secret is string => secret !== undefined,
  );
  const client = new SESClient({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: staticCredentials(config.credentials) }),
    // Retries live in the dispatcher only; an SDK retry would also hide the provider's real answer.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: config.connectTimeoutMs },
  });
  const wire = createWireTracker();
  // The deserialize step runs after signing, so credential lookups are done: the next HTTP
  // request in this context is the SES call itself.
  client.middlewareStack.add(
    (next) => (args) => {
      wire.arm();
      return next(args);
    },
    { step: 'deserialize', name: 'mailrouteWireArm' },
  );

  const failure = (error: unknown, state: WireState): MailError =>
    classifySesError(error, { provider: name, requestWritten: state.armed ? state.written : false, secrets });

  async function send(message: Message, context: SendContext): Promise<SendOutcome> {
    let request: SesSendRequest;
    try {
      request = await toSendRawEmailInput(message, { configurationSetName: config.configurationSetName });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      return rejected(
        mailError('PROVIDER_ERROR', `could not build the MIME message for SES: ${text}`, {
          provider: name,
          detail: { code: 'MIME_BUILD', body: { message: text }, requestWritten: false },
        }),
      );
    }
    const state = newWireState();
    try {
      const output = await wire.run(state, () => client.send(new SendRawEmailCommand(request.input), { abortSignal: context.signal }));
      if (!output.MessageId) {
        return rejected(
          mailError('PROVIDER_ERROR', 'SES answered without a MessageId', { provider: name, detail: answerDetail(output.$metadata) }),
        );
      }
      const detail: ProviderDetail = {
        ...answerDetail(output.$metadata),
        ...(request.skippedTags.length === 0 ? {} : { body: { skippedTags: request.skippedTags } }),
      };
      return accepted(output.MessageId, redact(detail, secrets));
    } catch (error) {
      return rejected(failure(error, state));
    }
  }

  async function verify(context: Partial<SendContext> = {}): Promise<VerifyOutcome> {
    const timeout = AbortSignal.timeout(config.verifyTimeoutMs);
    const signal = context.signal ? AbortSignal.any([timeout, context.signal]) : timeout;
    const state = newWireState();
    try {
      // GetSendQuota sends nothing and needs only ses:GetSendQuota: credentials, region and reachability in one call.
      const output = await wire.run(state, () => client.send(new GetSendQuotaCommand({}), { abortSignal: signal }));
      return {
        ok: true,
        detail: redact(
          {
            ...answerDetail(output.$metadata),
            body: { max24HourSend: output.Max24HourSend, maxSendRate: output.MaxSendRate, sentLast24Hours: output.SentLast24Hours },
          },
          secrets,
        ),
      };
    } catch (error) {
      return rejected(asVerifyFailure(failure(error, state), timeout.aborted, config.verifyTimeoutMs));
    }
  }

  return {
    name,
    type: 'ses',
    send,
    verify,
    async close() {
      client.destroy();
      wire.close();
    },
  };
}

function staticCredentials({ accessKeyId, secretAccessKey, sessionToken }: NonNullable<SesProviderConfig['credentials']>) {
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

function answerDetail(metadata: { httpStatusCode?: number; requestId?: string }): ProviderDetail {
  return {
    ...(metadata.httpStatusCode === undefined ? {} : { status: metadata.httpStatusCode }),
    ...(metadata.requestId === undefined ? {} : { headers: { 'x-amzn-requestid': metadata.requestId } }),
    requestWritten: true,
  };
}

/**
 * A health check sends no mail, so nothing about it is ambiguous: a check that timed out or
 * broke after writing says SES is not answering.
 */
function asVerifyFailure(error: MailError, timedOut: boolean, timeoutMs: number): MailError {
  if (error.category !== 'ambiguous' && !timedOut) return error;
  return mailError(
    error.category === 'ambiguous' ? 'PROVIDER_UNAVAILABLE' : error.code,
    timedOut ? `SES did not answer GetSendQuota within ${timeoutMs} ms` : error.message,
    {
      ...(error.provider === undefined ? {} : { provider: error.provider }),
      ...(error.detail === undefined ? {} : { detail: error.detail }),
    },
  );
}
