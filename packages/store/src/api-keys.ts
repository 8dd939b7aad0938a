import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_TENANT, type StoreContext } from './context.js';
import { StoreError } from './errors.js';
import { parseInput } from './filters.js';
import { uuidv7 } from './ids.js';

/**
 * `send`, `read` and `admin` act inside the key's tenant; `operator` acts on the whole service
 * (provider states, full provider errors, alerts, processes, every tenant's keys and senders).
 * What each implies is decided by the API (packages/api/src/scopes.ts).
 */
export const apiKeyScopes = ['send', 'read', 'admin', 'operator'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** The visible start of the key, to recognise it in lists and logs. */
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: number;
  readonly revokedAt?: number;
  readonly lastUsedAt?: number;
}

export interface CreatedApiKey extends ApiKeyRecord {
  /** The whole key. Shown once: only its hash is stored. */
  readonly key: string;
}

export interface ApiKeyApi {
  /** `key` stores a secret chosen elsewhere (the first admin key from the environment); otherwise one is drawn. */
  createApiKey(input: { name: string; scopes: readonly ApiKeyScope[]; tenantId?: string; key?: string }): Promise<CreatedApiKey>;
  /** The live key this secret belongs to; undefined for an unknown or revoked key. */
  authenticateApiKey(key: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(scope?: { tenantId?: string }): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string): Promise<ApiKeyRecord>;
  countApiKeys(): Promise<number>;
}

const KEY_PREFIX = 'mr_';
/** lastUsedAt is a hint for operators; writing it on every request would cost a write per send. */
const LAST_USED_PRECISION_MS = 60_000;

const createSchema = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(apiKeyScopes)).min(1),
  tenantId: z.string().min(1).max(100).default(DEFAULT_TENANT),
  key: z
    .string()
    .regex(/^mr_[A-Za-z0-9_-]{32,190}$/, { message: 'must start with mr_ followed by at least 32 letters, digits, _ or -' })
    .optional(),
});

/** Keys carry 256 random bits, so one SHA-256 is enough: there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

interface ApiKeyRow {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: unknown;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export function keyRecordFromRow(row: ApiKeyRow): ApiKeyRecord {
  const scopes = (Array.isArray(row.scopes) ? row.scopes : []).filter((scope): scope is ApiKeyScope =>
    (apiKeyScopes as readonly string[]).includes(String(scope)),
  );
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    prefix: row.prefix,
    scopes,
    createdAt: row.createdAt.getTime(),
    ...(row.revokedAt ? { revokedAt: row.revokedAt.getTime() } : {}),
    ...(row.lastUsedAt ? { lastUsedAt: row.lastUsedAt.getTime() } : {}),
  };
}

export function createApiKeyApi(ctx: StoreContext): ApiKeyApi {
  return {
    async createApiKey(input) {
      const parsed = parseInput(createSchema, input, 'API key');
      const prefix = parsed.key?.slice(0, 11) ?? `${KEY_PREFIX}${randomBytes(4).toString('hex')}`;
      const key = parsed.key ?? `${prefix}_${randomBytes(32).toString('base64url')}`;
      const row = await ctx.db.apiKey.create({
        data: {
          id: uuidv7(ctx.now()),
          tenantId: parsed.tenantId,
          name: parsed.name,
          hash: hashApiKey(key),
          prefix,
          scopes: [...new Set(parsed.scopes)],
          createdAt: new Date(ctx.now()),
        },
      });
      return { ...keyRecordFromRow(row), key };
    },
    async authenticateApiKey(key) {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return undefined;
      const row = await ctx.db.apiKey.findUnique({ where: { hash: hashApiKey(key) } });
      if (!row || row.revokedAt) return undefined;
      const now = ctx.now();
      if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
        await ctx.db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
      }
      return keyRecordFromRow(row);
    },
    async listApiKeys(scope = {}) {
      const rows = await ctx.db.apiKey.findMany({
        where: scope.tenantId ? { tenantId: scope.tenantId } : {},
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(keyRecordFromRow);
    },
    async revokeApiKey(id) {
      const row = await ctx.db.apiKey.findUnique({ where: { id } });
      if (!row) throw new StoreError('NOT_FOUND', `no API key with id ${id}`);
      if (row.revokedAt) return keyRecordFromRow(row);
      const revoked = await ctx.db.$transaction(async (tx) => {
        await tx.dashboardSession.deleteMany({ where: { keyId: id } });
        return tx.apiKey.update({ where: { id }, data: { revokedAt: new Date(ctx.now()) } });
      });
      return keyRecordFromRow(revoked);
    },
    countApiKeys: () => ctx.db.apiKey.count({ where: { revokedAt: null } }),
  };
}
