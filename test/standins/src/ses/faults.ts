import type { SesErrorAnswer } from './wire.js';

/**
 * What the fault proxy can do to a request instead of passing it through:
 * - `error`: answer like SES does (XML error body), or with a raw body (gateways in front of
 *   SES answer 504 with HTML, not SES XML);
 * - `hang`: read the request and never answer;
 * - `reset`: read the request, then drop the connection without forwarding it;
 * - `acceptThenReset`: forward it (SES stores the mail), then drop the connection before
 *   the answer reaches the client: the ambiguous case.
 */
export type SesFault =
  | (SesErrorAnswer & { readonly kind: 'error'; readonly rawBody?: string })
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'acceptThenReset' };

const senderError = (status: number, code: string, message: string): SesFault => ({ kind: 'error', status, type: 'Sender', code, message });
const receiverError = (status: number, code: string, message: string): SesFault => ({
  kind: 'error',
  status,
  type: 'Receiver',
  code,
  message,
});

/** The answers real SES gives, by name; codes and wording as SES sends them. */
export const sesFaults = {
  throttling: senderError(400, 'Throttling', 'Maximum sending rate exceeded.'),
  dailyQuotaExceeded: senderError(400, 'Throttling', 'Daily message quota exceeded.'),
  unverifiedAddress: senderError(
    400,
    'MessageRejected',
    'Email address is not verified. The following identities failed the check in region US-EAST-1: sender@example.com',
  ),
  contentRejected: senderError(400, 'MessageRejected', 'Message rejected: Executable content is not allowed.'),
  messageTooLarge: senderError(400, 'MessageRejected', 'Message length is more than 10485760 bytes long: 10485761.'),
  accessDenied: senderError(
    403,
    'AccessDenied',
    'User: arn:aws:iam::123456789012:user/mailroute is not authorized to perform: ses:SendRawEmail on resource: arn:aws:ses:us-east-1:123456789012:identity/example.com',
  ),
  invalidClientTokenId: senderError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'),
  signatureDoesNotMatch: senderError(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ),
  expiredToken: senderError(403, 'ExpiredToken', 'The security token included in the request is expired'),
  accountSendingPaused: senderError(400, 'AccountSendingPausedException', 'Email sending is disabled for your entire Amazon SES account.'),
  configurationSetDoesNotExist: senderError(400, 'ConfigurationSetDoesNotExist', 'Configuration set <transactional> does not exist.'),
  mailFromDomainNotVerified: senderError(
    400,
    'MailFromDomainNotVerifiedException',
    'The message could not be sent because Amazon SES could not read the MX record required to use the specified MAIL FROM domain.',
  ),
  invalidAddress: senderError(400, 'InvalidParameterValue', "Missing final '@domain'"),
  illegalAddress: senderError(400, 'InvalidParameterValue', 'Illegal address'),
  invalidParameter: senderError(400, 'InvalidParameterValue', "Value null at 'rawMessage.data' failed to satisfy constraint."),
  internalFailure: receiverError(
    500,
    'InternalFailure',
    'The request processing has failed because of an unknown error, exception or failure.',
  ),
  serviceUnavailable: receiverError(503, 'ServiceUnavailable', 'Service is unable to handle request.'),
  gatewayTimeout: {
    kind: 'error',
    status: 504,
    type: 'Receiver',
    code: 'GatewayTimeout',
    message: 'Gateway Timeout',
    rawBody: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>',
  },
  hang: { kind: 'hang' },
  reset: { kind: 'reset' },
  acceptThenReset: { kind: 'acceptThenReset' },
} as const satisfies Record<string, SesFault>;

export type SesFaultName = keyof typeof sesFaults;

export function resolveFault(fault: SesFault | SesFaultName): SesFault {
  return typeof fault === 'string' ? sesFaults[fault] : fault;
}

/** Short label for the request log: the preset name, the error code, or the kind. */
export function faultLabel(fault: SesFault | SesFaultName): string {
  if (typeof fault === 'string') return fault;
  return fault.kind === 'error' ? fault.code : fault.kind;
}
