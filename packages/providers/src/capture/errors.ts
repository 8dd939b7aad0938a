import { type MailError, mailError } from '@mailroute/core';

/** File system failures mean the capture folder cannot take mail now; anything else is unexpected. */
export function classifyCaptureError(error: unknown, provider: string): MailError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  const text = error instanceof Error ? error.message : String(error);
  const path = typeof error === 'object' && error !== null && 'path' in error ? String(error.path) : undefined;
  const detail = {
    ...(code === undefined ? {} : { code }),
    body: { message: text, ...(path === undefined ? {} : { path }) },
    requestWritten: false,
  };
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return mailError('PROVIDER_UNAVAILABLE', `${provider} cannot write the capture folder: ${text}`, { provider, detail });
  }
  return mailError('PROVIDER_ERROR', `${provider} failed to capture the message: ${text}`, { provider, detail });
}
