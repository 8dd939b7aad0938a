/**
 * Why the store refused an operation. The api maps these to tRPC codes: `INVALID_INPUT`
 * and `INVALID_STATE` are the caller's fault (BAD_REQUEST / CONFLICT), `NOT_FOUND` is
 * NOT_FOUND, `CLOSED` is the process shutting down.
 */
export type StoreErrorCode = 'INVALID_INPUT' | 'INVALID_STATE' | 'NOT_FOUND' | 'CLOSED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** Ids or fields the error is about, for the operator. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: StoreErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function isStoreError(value: unknown): value is StoreError {
  return value instanceof StoreError;
}
