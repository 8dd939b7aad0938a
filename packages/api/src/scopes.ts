import type { ApiKeyScope } from '@mailroute/store';

/**
 * What each scope lets a key do. `send`, `read` and `admin` act inside the key's tenant; `admin`
 * implies `send` and `read` there. `operator` acts on the whole service and implies `admin` in
 * its own tenant: a key that may mint keys for any tenant gains nothing by being refused in its
 * own, and a fresh install's first key must do the whole quick start (send, read, create keys,
 * see providers) alone.
 */
const implied: Readonly<Record<ApiKeyScope, readonly ApiKeyScope[]>> = {
  send: ['send'],
  read: ['read'],
  admin: ['admin', 'send', 'read'],
  operator: ['operator', 'admin', 'send', 'read'],
};

export function allows(scopes: readonly ApiKeyScope[], needed: ApiKeyScope): boolean {
  return scopes.some((scope) => implied[scope].includes(needed));
}

export function isOperator(scopes: readonly ApiKeyScope[]): boolean {
  return scopes.includes('operator');
}
