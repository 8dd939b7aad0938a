import type { DispatchOutcome, Router } from '@mailroute/core';
import { type Logger, pino } from 'pino';

/**
 * Secrets never reach the log: request headers are not logged at all, and any object that
 * carries one of these fields by mistake has it replaced.
 */
const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'pass',
  '*.pass',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'mailroute' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Every line about a message carries its id, so one grep finds its whole story. */
export function logRouterEvents(router: Router, logger: Logger): void {
  router.on('attempt', (attempt) => {
    const fields = {
      messageId: attempt.messageId,
      provider: attempt.provider,
      latencyMs: attempt.latencyMs,
      providerMessageId: attempt.providerMessageId,
      code: attempt.error?.code,
      status: attempt.detail?.status,
    };
    if (attempt.outcome === 'accepted') logger.debug(fields, 'provider accepted message');
    else logger.warn({ ...fields, error: attempt.error?.message }, 'provider call failed');
  });
  router.on('failover', (event) =>
    logger.warn({ messageId: event.messageId, from: event.from, to: event.to, code: event.error.code }, 'failing over'),
  );
  router.on('breaker', (event) => logger.warn({ provider: event.provider, state: event.state }, 'circuit breaker changed state'));
}

/** Where each message ended this round, once recorded: an operator greps one id and sees its path. */
export function logOutcome(outcome: DispatchOutcome, logger: Logger): void {
  const messageId = outcome.id;
  switch (outcome.kind) {
    case 'sent':
      logger.debug({ messageId, provider: outcome.provider, providerMessageId: outcome.providerMessageId }, 'message sent');
      return;
    case 'retry':
      logger.info({ messageId, code: outcome.error.code, retryAt: new Date(outcome.at).toISOString() }, 'message will be retried');
      return;
    case 'held':
      logger.info({ messageId, provider: outcome.provider, until: new Date(outcome.until).toISOString() }, 'message held for confirmation');
      return;
    case 'failed':
      logger.warn({ messageId, code: outcome.error.code, error: outcome.error.message }, 'message failed');
      return;
    case 'dead':
      logger.error({ messageId, reason: outcome.reason, code: outcome.error.code, error: outcome.error.message }, 'message dead');
      return;
  }
}
