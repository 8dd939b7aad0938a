import { type ErrorCode, type MailError, mailError, type ProviderDetail, redact, redactString } from '@mailroute/core';

/** The fields nodemailer puts on its errors (`NodemailerError`), all optional since anything may be thrown. */
export interface SmtpErrorLike {
  readonly message?: string;
  readonly code?: string;
  readonly originalCode?: string;
  readonly response?: string;
  readonly responseCode?: number;
  readonly command?: string;
  readonly timeoutType?: string;
  readonly recipient?: string;
  readonly rejectedErrors?: readonly SmtpErrorLike[];
}

export interface SmtpFailureContext {
  readonly provider: string;
  /** Whether any byte of the message data had gone to the server when the failure happened. */
  readonly requestWritten: boolean;
  /** Configured secret values (password and its encodings) to mask wherever they appear. */
  readonly secrets: readonly string[];
}

/** Wait suggested when a server asks us to slow down without saying for how long. */
export const DEFAULT_RATE_LIMIT_RETRY_MS = 60_000;

/** Codes of failures that mean the server was never properly reached. */
const CONNECT_PHASE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const CONNECT_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
const TLS_FAILURE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/i;
const RATE_WORDS = /\brate\b|rate[- ]?limit|too many (?!recipients)|throttl|slow down/i;

interface Reply {
  readonly status: number;
  readonly enhanced: string | undefined;
  readonly text: string;
}

/** Classifies a nodemailer failure into our taxonomy, keeping the server's words with secrets masked. */
export function classifySmtpError(error: unknown, context: SmtpFailureContext): MailError {
  const err = asErrorLike(error);
  const [code, summary, retryAfterMs] = decide(err, context.requestWritten);
  const detail = redact(detailOf(err, context.requestWritten), context.secrets);
  const words = err.response ? `: ${err.response}` : err.message ? `: ${err.message}` : '';
  return mailError(code, redactString(`${context.provider} ${summary}${words}`, context.secrets), {
    provider: context.provider,
    detail,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

type Decision = readonly [ErrorCode, string, number?];

function decide(err: SmtpErrorLike, requestWritten: boolean): Decision {
  if (err.code === 'EABORT') {
    return requestWritten
      ? ['TIMEOUT', 'was cut off after the message was sent; it may have been accepted']
      : ['PROVIDER_UNREACHABLE', 'was cut off before the message was sent'];
  }
  const reply = parseReply(err.response);
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'EOAUTH2' || isAuthReply(reply)) {
    return ['PROVIDER_AUTH', 'refused our credentials'];
  }
  if (reply) return decideByReply(err, reply);
  return decideWithoutReply(err, requestWritten);
}

function decideByReply(err: SmtpErrorLike, reply: Reply): Decision {
  if (reply.status < 500) {
    if (isRateLimit(reply)) return ['RATE_LIMITED', 'asked us to slow down', retryAfterOf(reply.text)];
    return ['PROVIDER_UNAVAILABLE', `deferred the message (${err.command ?? 'SMTP'})`];
  }
  if (isTooLarge(reply)) return ['MESSAGE_TOO_LARGE', 'refused the message as too large'];
  switch (err.command) {
    case 'MAIL FROM':
      if (reply.enhanced?.startsWith('5.7.')) return ['PROVIDER_CONFIG', 'does not accept mail from this sender'];
      if (isSenderFault(reply) || reply.status === 553 || reply.status === 501) return ['INVALID_SENDER', 'refused the sender'];
      return ['PROVIDER_CONFIG', 'does not accept mail from this sender'];
    case 'RCPT TO':
      return decideRecipients(err, reply);
    case 'DATA':
      if (reply.status === 554 || reply.status === 550 || /^5\.[67]\./.test(reply.enhanced ?? '')) {
        return ['CONTENT_REJECTED', 'refused the content'];
      }
      return ['PROVIDER_ERROR', 'refused the message'];
    default:
      return ['PROVIDER_UNAVAILABLE', `refused the session (${err.command ?? 'SMTP'})`];
  }
}

/** nodemailer fails at RCPT only when every recipient was refused; each refusal is in rejectedErrors. */
function decideRecipients(err: SmtpErrorLike, reply: Reply): Decision {
  const replies = (err.rejectedErrors ?? []).map((rejected) => parseReply(rejected.response)).filter((r) => r !== undefined);
  const all = replies.length > 0 ? replies : [reply];
  if (all.some(isSenderFault)) return ['INVALID_SENDER', 'refused the sender'];
  if (all.every(isRecipientFault)) return ['INVALID_RECIPIENT', 'refused every recipient'];
  if (all.some((r) => r.enhanced?.startsWith('5.7.'))) return ['PROVIDER_CONFIG', 'will not relay to these recipients'];
  return ['PROVIDER_ERROR', 'refused every recipient'];
}

function decideWithoutReply(err: SmtpErrorLike, requestWritten: boolean): Decision {
  const code = err.code ?? '';
  const original = err.originalCode ?? '';
  if (code === 'EMESSAGE' && err.command === 'MAIL FROM') return ['MESSAGE_TOO_LARGE', 'advertises a smaller SIZE limit than the message'];
  if (['EENVELOPE', 'EMESSAGE', 'ESTREAM', 'ECONFIG', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS'].includes(code)) {
    return ['PROVIDER_BAD_REQUEST', 'could not be handed this message'];
  }
  const connectPhase =
    CONNECT_PHASE.has(original) ||
    code === 'EDNS' ||
    code === 'ETLS' ||
    code === 'EREQUIRETLS' ||
    code === 'EPROXY' ||
    CONNECT_TIMEOUTS.has(err.timeoutType ?? '') ||
    TLS_FAILURE.test(original);
  if (connectPhase) return ['PROVIDER_UNREACHABLE', 'could not be reached'];
  const connectionLost = code === 'ECONNECTION' || code === 'ESOCKET' || code === 'ETIMEDOUT' || code === 'EPROTOCOL';
  if (connectionLost && requestWritten) {
    return code === 'ETIMEDOUT'
      ? ['TIMEOUT', 'stopped answering after the message was sent; it may have been accepted']
      : ['CONNECTION_RESET', 'dropped the connection after the message was sent; it may have been accepted'];
  }
  if (connectionLost) return ['PROVIDER_UNAVAILABLE', 'dropped the connection before the message was sent'];
  return ['PROVIDER_ERROR', 'failed'];
}

function parseReply(response: string | undefined): Reply | undefined {
  const match = response ? /^([2-5]\d\d)[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\b)?/.exec(response) : null;
  if (!match || !response) return undefined;
  return { status: Number(match[1]), enhanced: match[2], text: response };
}

function isAuthReply(reply: Reply | undefined): boolean {
  return reply !== undefined && (reply.status === 530 || reply.status === 534 || reply.status === 535 || reply.enhanced === '5.7.8');
}

function isRateLimit(reply: Reply): boolean {
  return RATE_WORDS.test(reply.text) || (reply.enhanced?.startsWith('4.7.') === true && /try again later/i.test(reply.text));
}

function isTooLarge(reply: Reply): boolean {
  if (reply.enhanced === '5.3.4' || reply.enhanced === '5.2.3') return true;
  return reply.status === 552 && (reply.enhanced === undefined || reply.enhanced.startsWith('5.3.'));
}

function isSenderFault(reply: Reply): boolean {
  return reply.enhanced === '5.1.7' || reply.enhanced === '5.1.8';
}

function isRecipientFault(reply: Reply): boolean {
  if (reply.status < 500) return false;
  if (reply.enhanced) return /^5\.[12]\./.test(reply.enhanced) && !isSenderFault(reply);
  return reply.status === 550 || reply.status === 551 || reply.status === 553;
}

function retryAfterOf(text: string): number {
  const match = /(\d+)\s*(seconds?|secs?|s|minutes?|mins?|m)\b/i.exec(text);
  if (!match) return DEFAULT_RATE_LIMIT_RETRY_MS;
  const amount = Number(match[1]);
  return /^m/i.test(match[2] ?? '') ? amount * 60_000 : amount * 1_000;
}

function detailOf(err: SmtpErrorLike, requestWritten: boolean): ProviderDetail {
  const rejected = (err.rejectedErrors ?? []).map((item) => ({ recipient: item.recipient, response: item.response }));
  const body = {
    message: err.message,
    response: err.response,
    command: err.command,
    originalCode: err.originalCode,
    timeoutType: err.timeoutType,
    ...(rejected.length > 0 ? { rejected } : {}),
  };
  return {
    ...(err.responseCode === undefined ? {} : { status: err.responseCode }),
    ...(err.code === undefined ? {} : { code: err.code }),
    body: Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)),
    requestWritten,
  };
}

function asErrorLike(error: unknown): SmtpErrorLike {
  if (typeof error === 'object' && error !== null) {
    const source = error as Record<string, unknown>;
    const text = (key: string) => (typeof source[key] === 'string' ? (source[key] as string) : undefined);
    const rejectedErrors = Array.isArray(source.rejectedErrors) ? source.rejectedErrors.map(asErrorLike) : undefined;
    const fields: Record<string, unknown> = {
      message: text('message'),
      code: text('code'),
      originalCode: text('originalCode'),
      response: text('response'),
      responseCode: typeof source.responseCode === 'number' ? source.responseCode : undefined,
      command: text('command'),
      timeoutType: text('timeoutType'),
      recipient: text('recipient'),
      rejectedErrors,
    };
    return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as SmtpErrorLike;
  }
  return { message: String(error) };
}
