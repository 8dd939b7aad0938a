import { checkDatabase } from '@mailroute/store';
import type { Logger } from 'pino';

const POLL_MS = 1_000;
const REMIND_MS = 30_000;

/**
 * On PostgreSQL migrations are a deploy step (`mailroute migrate`), not something every
 * process races to do at start. A process that finds them pending waits (its /readyz says
 * why) instead of failing on missing tables, and carries on once they are applied.
 */
export async function waitForMigrations(databaseUrl: string, logger: Logger): Promise<void> {
  let remindedAt = 0;
  for (;;) {
    let reason: string;
    try {
      const { pendingMigrations } = await checkDatabase({ url: databaseUrl });
      if (pendingMigrations.length === 0) {
        if (remindedAt > 0) logger.info('database migrations applied; starting');
        return;
      }
      reason = `migrations not applied: ${pendingMigrations.join(', ')}; run mailroute migrate`;
    } catch (error) {
      reason = `database unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() - remindedAt >= REMIND_MS) {
      logger.warn({ reason }, 'waiting for the database');
      remindedAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** True when the database answers and has every migration; false otherwise (never throws). */
export async function migrationsApplied(databaseUrl: string): Promise<boolean> {
  try {
    return (await checkDatabase({ url: databaseUrl })).pendingMigrations.length === 0;
  } catch {
    return false;
  }
}
