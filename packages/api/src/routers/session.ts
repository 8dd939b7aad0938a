import type { ApiKeyScope } from '@mailroute/store';
import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { DEFAULT_SESSION_TTL_MS } from '../context.js';
import { apiError } from '../errors.js';
import { allows } from '../scopes.js';
import { clearedSessionCookie, sessionCookie } from '../session-cookie.js';
import { csrfRefusal, OPERATOR_SCOPE, publicProcedure, router, signedIn } from '../trpc.js';

/** Who the console acts as: what it shows and which buttons it enables. */
export interface Whoami {
  readonly keyId: string;
  readonly name: string;
  readonly prefix: string;
  readonly tenantId: string;
  readonly scopes: readonly ApiKeyScope[];
  /** Service-wide operator rights (provider audit, alerts, processes). */
  readonly operator: boolean;
  /** `session`: a console cookie; `bearer`: an Authorization header. */
  readonly via: 'session' | 'bearer';
  /** When the console session ends (epoch ms); absent for a bearer key. */
  readonly expiresAt?: number;
}

function whoami(
  key: { id: string; name: string; prefix: string; tenantId: string; scopes: readonly ApiKeyScope[] },
  via: Whoami['via'],
  expiresAt?: number,
): Whoami {
  return {
    keyId: key.id,
    name: key.name,
    prefix: key.prefix,
    tenantId: key.tenantId,
    scopes: key.scopes,
    operator: allows(key.scopes, OPERATOR_SCOPE),
    via,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

function requireCsrf(ctx: ApiContext): void {
  if (!ctx.request.csrf) throw csrfRefusal();
}

/**
 * Console sign-in: the operator's API key is sent once and answered with an HttpOnly session
 * cookie; the browser never keeps the key. The session stores only a hash of its own token
 * and the key's id, never the key.
 */
export const sessionRouter = router({
  signIn: publicProcedure.input(z.strictObject({ key: z.string().min(1).max(300) })).mutation(async ({ ctx, input }): Promise<Whoami> => {
    requireCsrf(ctx);
    const key = await ctx.keys.authenticate(input.key.trim());
    if (!key) throw apiError('UNAUTHENTICATED', 'unknown or revoked API key');
    const session = await ctx.deps.store.createSession({ keyId: key.id, ttlMs: ctx.deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS });
    ctx.setCookies.push(sessionCookie(session.token, session.expiresAt, ctx.now(), ctx.request.secure ?? false));
    return whoami(key, 'session', session.expiresAt);
  }),

  whoami: signedIn().query(({ ctx }): Whoami => {
    const { caller } = ctx;
    if ('refusal' in caller) throw apiError('UNAUTHENTICATED', caller.refusal);
    return caller.via === 'session' ? whoami(caller.key, 'session', caller.session.expiresAt) : whoami(caller.key, 'bearer');
  }),

  /** Ends this console session (when there is one) and clears its cookie; signing out twice is fine. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    requireCsrf(ctx);
    const { caller } = ctx;
    if ('session' in caller) {
      await ctx.deps.store.deleteSession(caller.session.token);
      ctx.keys.forgetSession(caller.session.token);
    }
    ctx.setCookies.push(clearedSessionCookie(ctx.request.secure ?? false));
    return { signedOut: true as const };
  }),
});
