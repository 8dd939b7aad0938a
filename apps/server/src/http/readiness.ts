import { checkDatabase } from '@mailroute/store';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Ready when a fresh connection reaches the database within two seconds and every committed
 * migration is applied. An API process on PostgreSQL stays unready until `mailroute migrate`
 * has run, instead of answering requests with missing tables.
 */
export function createReadinessCheck(databaseUrl: string, isStopping: () => boolean): () => Promise<Readiness> {
  return async () => {
    if (isStopping()) return { ready: false, reason: 'shutting down' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    try {
      const { pendingMigrations } = await Promise.race([checkDatabase({ url: databaseUrl }), timeout]);
      if (pendingMigrations.length > 0) {
        return { ready: false, reason: `migrations not applied: ${pendingMigrations.join(', ')} (run mailroute migrate)` };
      }
      return { ready: true };
    } catch (error) {
      return { ready: false, reason: `database unreachable: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      clearTimeout(timer);
    }
  };
}
