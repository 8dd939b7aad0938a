import type { Router } from '@mailroute/core';
import { type Logger, pino } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'mailroute' } });
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
  router.on('failover', (event) => logger.warn({ messageId: event.messageId, from: event.from, code: event.error.code }, 'failing over'));
  router.on('breaker', (event) => logger.warn({ provider: event.provider, state: event.state }, 'circuit breaker changed state'));
}
