import type { ApiKeyScope } from '@mailroute/store';
import { initTRPC } from '@trpc/server';
import type { ApiContext } from './context.js';
import { type ApiErrorData, apiError, toApiFault, toTrpcError } from './errors.js';
import { allows, isOperator } from './scopes.js';
import { CSRF_HEADER } from './session-cookie.js';
import { unstorableTextFault } from './text-guard.js';

const t = initTRPC.context<ApiContext>().create({
  // Never stack traces, whatever NODE_ENV says.
  isDev: false,
  // Server-sent events (live.overview): a comment every 10 s keeps proxies from closing a quiet
  // stream, and tells the client the server is alive; silent for 25 s, it reconnects.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  errorFormatter({ shape, error }) {
    const fault = toApiFault(error);
    const data: ApiErrorData = {
      code: fault.code,
      httpStatus: shape.data.httpStatus,
      ...(shape.data.path === undefined ? {} : { path: shape.data.path }),
      issues: fault.issues,
    };
    return { code: shape.code, message: fault.message, data };
  },
});

export const router = t.router;

/** The scope of service-wide operator things (provider audit, alerts and processes in the live view). */
export const OPERATOR_SCOPE: ApiKeyScope = 'operator';

/** Errors leaving a procedure get the tRPC code of their API code (input errors included). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTrpcError(result.error);
  return result;
});

/**
 * One middleware, not three: tRPC copies its options at every level, which cost a tenth of the
 * server's CPU per send. In order: the key and its scope; then, when `checkText`, text
 * PostgreSQL would refuse is a 400 at its field before any validator reads the input; and every
 * error leaving the procedure gets the tRPC code of its API code (input errors included).
 */
function guard(scope: ApiKeyScope | undefined, checkText: boolean) {
  return t.middleware(async ({ ctx, type, getRawInput, next }) => {
    const { caller } = ctx;
    if ('refusal' in caller) throw apiError('UNAUTHENTICATED', caller.refusal);
    if (caller.via === 'session' && type === 'mutation' && !ctx.request.csrf) throw csrfRefusal();
    if (scope !== undefined && !allows(caller.key.scopes, scope)) {
      throw apiError('FORBIDDEN', `this API key (${caller.key.prefix}) lacks the ${scope} scope`);
    }
    if (checkText) {
      const fault = unstorableTextFault(await getRawInput());
      if (fault) throw apiError(fault.code, fault.message, fault.issues);
    }
    const result = await next({ ctx: { key: caller.key, tenantId: caller.key.tenantId, operator: isOperator(caller.key.scopes) } });
    if (!result.ok) throw toTrpcError(result.error);
    return result;
  });
}

/** The FORBIDDEN a procedure raises itself when what it was asked needs a scope the key lacks. */
export function missingScope(key: { readonly prefix: string }, scope: ApiKeyScope, why: string) {
  return apiError('FORBIDDEN', `this API key (${key.prefix}) lacks the ${scope} scope: ${why}`);
}

/**
 * A procedure for keys with `scope` (see scopes.ts for what implies what); its context carries
 * the key, its tenant and whether it is an operator. Input is read
 * only after this check, and must hold only storable text.
 */
export function scoped(scope: ApiKeyScope) {
  return t.procedure.use(guard(scope, true));
}

/** `scoped` for a procedure that checks its input's text itself (a batch answers per message). */
export function authorized(scope: ApiKeyScope) {
  return t.procedure.use(guard(scope, false));
}

/** Any live key or console session, whatever its scopes. */
export function signedIn() {
  return t.procedure.use(guard(undefined, true));
}

/** No key needed (signing in); errors still travel with their API codes. */
export const publicProcedure = t.procedure.use(mapErrors);

export function csrfRefusal() {
  return apiError('FORBIDDEN', `a console request that changes something must carry the header ${CSRF_HEADER}: 1`);
}
