import { createHash, randomBytes } from 'node:crypto';
import { type ApiKeyRecord, keyRecordFromRow } from './api-keys.js';
import type { StoreContext } from './context.js';
import { StoreError } from './errors.js';

export interface CreatedSession {
  /** The cookie's value. Shown once: only its hash is stored. */
  readonly token: string;
  readonly keyId: string;
  readonly expiresAt: number;
}

export interface SessionApi {
  /** A new console session acting as this key, for `ttlMs`; expired sessions are removed on the way. */
  createSession(input: { readonly keyId: string; readonly ttlMs: number }): Promise<CreatedSession>;
  /** The live key behind a session token; undefined when the session is unknown or expired, or its key revoked. */
  authenticateSession(token: string): Promise<{ readonly key: ApiKeyRecord; readonly expiresAt: number } | undefined>;
  /** Ends one session; true when it existed. */
  deleteSession(token: string): Promise<boolean>;
}

const TOKEN_PREFIX = 'mrs_';

/** Tokens carry 256 random bits, so one SHA-256 is enough to keep a stolen table useless. */
function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createSessionApi(ctx: StoreContext): SessionApi {
  const { db } = ctx;
  return {
    async createSession({ keyId, ttlMs }) {
      if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new StoreError('INVALID_INPUT', 'session ttlMs must be a positive integer');
      const now = ctx.now();
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const expiresAt = now + ttlMs;
      await db.$transaction(async (tx) => {
        const key = await tx.apiKey.findUnique({ where: { id: keyId }, select: { revokedAt: true } });
        if (!key || key.revokedAt) throw new StoreError('NOT_FOUND', `no live API key with id ${keyId}`);
        await tx.dashboardSession.deleteMany({ where: { expiresAt: { lte: new Date(now) } } });
        await tx.dashboardSession.create({
          data: { id: sessionId(token), keyId, createdAt: new Date(now), expiresAt: new Date(expiresAt) },
        });
      });
      return { token, keyId, expiresAt };
    },
    async authenticateSession(token) {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
      const session = await db.dashboardSession.findUnique({ where: { id: sessionId(token) } });
      if (!session || session.expiresAt.getTime() <= ctx.now()) return undefined;
      const key = await db.apiKey.findUnique({ where: { id: session.keyId } });
      if (!key || key.revokedAt) return undefined;
      return { key: keyRecordFromRow(key), expiresAt: session.expiresAt.getTime() };
    },
    async deleteSession(token) {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return false;
      const { count } = await db.dashboardSession.deleteMany({ where: { id: sessionId(token) } });
      return count > 0;
    },
  };
}
