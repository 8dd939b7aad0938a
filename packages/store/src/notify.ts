import type pg from 'pg';

/**
 * "New mail was enqueued" signal. Listeners in this process hear it right after the commit.
 * On PostgreSQL the enqueue transaction also runs NOTIFY, and a dedicated connection
 * LISTENs, so workers in other processes wake up at once too; a notification carries the
 * sender's instance id so a store does not hear its own enqueues twice.
 */
export interface EnqueueSignal {
  subscribe(listener: () => void): () => void;
  /** Call after an enqueue committed. */
  emit(): void;
  close(): Promise<void>;
}

export interface PgListenOptions {
  readonly url: string;
  readonly channel: string;
  readonly instanceId: string;
  /** Delay before reconnecting a lost LISTEN connection. */
  readonly reconnectMs?: number;
  readonly onError?: (error: unknown) => void;
}

export function createLocalSignal(): EnqueueSignal {
  const listeners = new Set<() => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: () => notifyAll(listeners),
    close: async () => listeners.clear(),
  };
}

/** Resolves once LISTEN is active, so an enqueue in another process right after is heard. */
export async function createPgSignal(options: PgListenOptions): Promise<EnqueueSignal> {
  // Imported here so a process on SQLite never loads the PostgreSQL driver.
  const { default: pg } = await import('pg');
  const listeners = new Set<() => void>();
  const reconnectMs = options.reconnectMs ?? 1_000;
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: options.url });
    next.on('notification', (message) => {
      if (message.channel === options.channel && message.payload !== options.instanceId) notifyAll(listeners);
    });
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, undefined));
    await next.connect();
    await next.query(`LISTEN ${quoteIdentifier(options.channel)}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
  }

  function lost(which: pg.Client, error: unknown): void {
    if (client !== which || closed) return;
    client = undefined;
    if (error !== undefined) options.onError?.(error);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        // Notifications sent while the connection was down are lost: wake everyone once.
        () => notifyAll(listeners),
        (error: unknown) => {
          options.onError?.(error);
          scheduleReconnect();
        },
      );
    }, reconnectMs);
    retryTimer.unref();
  }

  await connect();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: () => notifyAll(listeners),
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      listeners.clear();
      const current = client;
      client = undefined;
      await current?.end();
    },
  };
}

function notifyAll(listeners: ReadonlySet<() => void>): void {
  for (const listener of listeners) {
    try {
      listener();
    } catch {
      // A listener's failure must not fail the enqueue that woke it.
    }
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Wakes workers about mail that became due by other means than an enqueue (an operator's
 * requeue): on PostgreSQL the NOTIFY goes with the transaction (sent at its commit, to every
 * process); call `emit()` on the store's signal after the commit for this process's own workers.
 */
export async function notifyInTransaction(
  tx: { $queryRawUnsafe(query: string, ...values: unknown[]): Promise<unknown> },
  ctx: { readonly dialect: string; readonly notifyChannel: string; readonly instanceId: string },
): Promise<void> {
  if (ctx.dialect === 'postgres') await tx.$queryRawUnsafe('SELECT pg_notify($1, $2)::text AS sent', ctx.notifyChannel, ctx.instanceId);
}
