import type { ApiKeyScope } from '@mailroute/store';
import { initTRPC } from '@trpc/server';
import type { ApiContext } from './context.js';
import { type ApiErrorData, apiError, toApiFault, toTrpcError } from './errors.js';
import { unstorableTextFault } from './text-guard.js';

const t = initTRPC.context<ApiContext>().create({
  // Never stack traces, whatever NODE_ENV says.
  isDev: false,
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

/** Every error leaving a procedure gets the tRPC code of its API code (input errors included: this runs first). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTrpcError(result.error);
  return result;
});

/** `admin` implies `send` and `read`. */
function allows(scopes: readonly ApiKeyScope[], needed: ApiKeyScope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}

/**
 * A procedure for keys with `scope`; its context carries the key and its tenant. Input is read
 * only after this check, and must hold only storable text.
 */
export function scoped(scope: ApiKeyScope) {
  return authorized(scope).use(refuseUnstorableText);
}

/** `scoped` for a procedure that checks its input's text itself (a batch answers per message). */
export function authorized(scope: ApiKeyScope) {
  return t.procedure.use(mapErrors).use(({ ctx, next }) => {
    const { caller } = ctx;
    if ('refusal' in caller) throw apiError('UNAUTHENTICATED', caller.refusal);
    if (!allows(caller.key.scopes, scope)) {
      throw apiError('FORBIDDEN', `this API key (${caller.key.prefix}) lacks the ${scope} scope`);
    }
    return next({ ctx: { key: caller.key, tenantId: caller.key.tenantId } });
  });
}

/** Before any validator: text PostgreSQL would refuse must be a 400 at its field, not a database error. */
const refuseUnstorableText = t.middleware(async ({ getRawInput, next }) => {
  const fault = unstorableTextFault(await getRawInput());
  if (fault) throw fault;
  return next();
});
