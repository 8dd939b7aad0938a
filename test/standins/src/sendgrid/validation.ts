import type { MailSendSchemaValidator, SchemaIssue } from './spec.js';

/** One entry of SendGrid's error body `{ errors: [...] }`. */
export interface SendGridApiError {
  readonly message: string;
  readonly field: string | null;
  readonly help: string | null;
}

export interface MailAddressJson {
  readonly email: string;
  readonly name?: string;
}

/** The parts of a mail send body the stand-in looks at once the schema has accepted it. */
export interface MailSendBody {
  readonly personalizations: readonly {
    readonly to?: readonly MailAddressJson[];
    readonly cc?: readonly MailAddressJson[];
    readonly bcc?: readonly MailAddressJson[];
    readonly subject?: string;
  }[];
  readonly from: MailAddressJson;
  readonly reply_to?: MailAddressJson;
  readonly reply_to_list?: readonly MailAddressJson[];
  readonly subject?: string;
  readonly content?: readonly { readonly type: string; readonly value: string }[];
  readonly attachments?: readonly {
    readonly content: string;
    readonly filename: string;
    readonly type?: string;
    readonly disposition?: string;
    readonly content_id?: string;
  }[];
  readonly template_id?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly categories?: readonly string[];
  readonly custom_args?: Readonly<Record<string, string>>;
  readonly ip_pool_name?: string;
  readonly mail_settings?: { readonly sandbox_mode?: { readonly enable?: boolean } };
}

const HELP_BASE = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

const MESSAGES = {
  personalizations: 'The personalizations field is required and must have at least one personalization.',
  from: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
  to: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
  subject:
    'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
  content:
    'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
  contentOrder:
    'If present, text/plain and text/html may only be provided in this order: text/plain first, then text/html, then any other content type.',
  recipientAddress: 'Does not contain a valid address.',
} as const;

const RECIPIENT_KINDS = ['to', 'cc', 'bcc'] as const;

export interface MailSendRules {
  /** True for an address the test wants SendGrid to call invalid. */
  readonly isInvalidAddress: (email: string) => boolean;
}

/**
 * Judges a parsed mail send body the way SendGrid does: the official schema first, then
 * the rules the API enforces that the schema does not state. Empty when the body is fine.
 */
export function mailSendErrors(body: unknown, schema: MailSendSchemaValidator, rules: MailSendRules): SendGridApiError[] {
  const issues = schema.validate(body);
  if (issues.length > 0) return issues.map(schemaIssueToError);
  return ruleErrors(body as MailSendBody, rules);
}

function schemaIssueToError(issue: SchemaIssue): SendGridApiError {
  if (issue.keyword === 'required') {
    const missing = String(issue.params.missingProperty);
    const path = [...issue.path, missing];
    if (path.length === 1 && missing === 'from') return apiError(MESSAGES.from, 'from.email');
    if (path.length === 1 && missing === 'personalizations') return apiError(MESSAGES.personalizations, 'personalizations');
    if (missing === 'to' && issue.path[0] === 'personalizations') return apiError(MESSAGES.to, path.join('.'));
    return apiError(`The ${path.join('.')} parameter is required.`, path.join('.'));
  }
  const field = issue.path.join('.');
  if (issue.keyword === 'format' && issue.params.format === 'email') return invalidAddress(issue.path);
  if (issue.keyword === 'type') {
    return apiError(`Invalid type. Expected: ${String(issue.params.type)}, given: ${jsonType(issue.value)}.`, field);
  }
  return apiError(`${field || 'body'} ${issue.message}.`, field || null);
}

function ruleErrors(body: MailSendBody, rules: MailSendRules): SendGridApiError[] {
  const errors: SendGridApiError[] = [];
  if (body.personalizations.length === 0) errors.push(apiError(MESSAGES.personalizations, 'personalizations'));
  body.personalizations.forEach((personalization, index) => {
    if (!personalization.to || personalization.to.length === 0) {
      errors.push(apiError(MESSAGES.to, `personalizations.${index}.to`));
    }
    const seen = new Set<string>();
    let duplicateReported = false;
    for (const kind of RECIPIENT_KINDS) {
      personalization[kind]?.forEach((address, position) => {
        const key = address.email.toLowerCase();
        if (seen.has(key) && !duplicateReported) {
          duplicateReported = true;
          errors.push(
            apiError(
              `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${address.email}] in the personalizations.${index}.${kind} field.`,
              `personalizations.${index}`,
            ),
          );
        }
        seen.add(key);
        if (rules.isInvalidAddress(address.email))
          errors.push(invalidAddress(['personalizations', String(index), kind, String(position), 'email']));
      });
    }
  });
  if (rules.isInvalidAddress(body.from.email)) errors.push(invalidAddress(['from', 'email']));
  if (body.reply_to && rules.isInvalidAddress(body.reply_to.email)) errors.push(invalidAddress(['reply_to', 'email']));
  body.reply_to_list?.forEach((address, position) => {
    if (rules.isInvalidAddress(address.email)) errors.push(invalidAddress(['reply_to_list', String(position), 'email']));
  });
  const everyPersonalizationHasSubject = body.personalizations.every((p) => p.subject !== undefined);
  if (body.subject === undefined && body.template_id === undefined && !everyPersonalizationHasSubject) {
    errors.push(apiError(MESSAGES.subject, 'subject'));
  }
  if (body.template_id === undefined && (!body.content || body.content.length === 0)) {
    errors.push(apiError(MESSAGES.content, 'content'));
  }
  if (body.content && !inSendGridOrder(body.content.map((block) => block.type))) errors.push(apiError(MESSAGES.contentOrder, 'content'));
  return errors;
}

/** text/plain must come first and text/html next, each at most once, before any other type. */
function inSendGridOrder(types: readonly string[]): boolean {
  const rank = (type: string) => (type === 'text/plain' ? 0 : type === 'text/html' ? 1 : 2);
  for (let i = 1; i < types.length; i += 1) {
    const previous = rank(types[i - 1] ?? '');
    const current = rank(types[i] ?? '');
    if (current < previous || (current === previous && current < 2)) return false;
  }
  return true;
}

function invalidAddress(path: readonly string[]): SendGridApiError {
  const field = path.join('.');
  const top = path[0];
  const message = top === 'from' || top === 'reply_to' ? `The ${top} email does not contain a valid address.` : MESSAGES.recipientAddress;
  return apiError(message, field);
}

function apiError(message: string, field: string | null): SendGridApiError {
  return { message, field, help: field === null ? null : `${HELP_BASE}#message.${field.replace(/\.\d+/g, '')}` };
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
