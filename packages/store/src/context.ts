import type { Db } from './database.js';
import type { Dialect } from './dialect.js';
import type { EnqueueSignal } from './notify.js';
import type { RawSql } from './sql.js';

/** What the store's parts share. */
export interface StoreContext {
  readonly dialect: Dialect;
  readonly db: Db;
  readonly raw: RawSql;
  readonly now: () => number;
  readonly signal: EnqueueSignal;
  /** PostgreSQL NOTIFY channel and this store's id (the payload), sent inside the enqueue transaction. */
  readonly notifyChannel: string;
  readonly instanceId: string;
}

export const DEFAULT_TENANT = 'default';
