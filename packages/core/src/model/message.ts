import { z } from 'zod';
import { type FieldIssue, type MailError, mailError } from '../errors.js';
import { type Address, addressSchema } from './address.js';
import { hasControlCharacter } from './text.js';

/** Limits that hold for every provider mailroute supports (SES's 10 MB raw message is the tightest). */
export const messageLimits = {
  maxRecipients: 1000,
  maxSubjectLength: 998,
  maxBodyBytes: 10 * 1024 * 1024,
  maxTotalBytes: 10 * 1024 * 1024,
  maxAttachments: 100,
  maxHeaders: 50,
  maxTags: 10,
  maxMetadataBytes: 8 * 1024,
} as const;

/** The header that carries our message id on every provider. */
export const MESSAGE_ID_HEADER = 'X-Mailroute-Id';
/** The key that carries our message id in SendGrid custom_args and SES message tags. */
export const MESSAGE_ID_TAG = 'mailroute_id';

/** Headers that the message fields or the providers own; setting them by hand is refused. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'sender',
  'return-path',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'received',
  'dkim-signature',
  'x-sg-id',
  'x-sg-eid',
  'x-ses-configuration-set',
  MESSAGE_ID_HEADER.toLowerCase(),
]);

const HEADER_NAME = /^[!-9;-~]+$/;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

const noLineBreaks = (label: string) =>
  z.string().refine((value) => !/[\r\n\0]/.test(value), {
    message: `${label} must not contain line breaks (header injection)`,
  });

const attachmentSchema = z
  .strictObject({
    filename: z
      .string()
      .min(1)
      .max(255)
      .refine((name) => !hasControlCharacter(name) && !/[\\/]/.test(name), {
        message: 'must be a plain file name without path separators or control characters',
      }),
    /** Base64 of the file's bytes. */
    content: z.base64({ message: 'must be base64' }),
    contentType: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+$/, { message: 'must be a MIME type such as application/pdf' })
      .default('application/octet-stream'),
    disposition: z.enum(['attachment', 'inline']).default('attachment'),
    /** Referenced from HTML as `cid:<contentId>`; required for inline parts. */
    contentId: z
      .string()
      .regex(/^[A-Za-z0-9._@$-]{1,128}$/, { message: 'must be 1-128 of A-Z a-z 0-9 . _ @ $ -' })
      .optional(),
  })
  .refine((attachment) => attachment.disposition !== 'inline' || attachment.contentId !== undefined, {
    path: ['contentId'],
    message: 'inline attachments need a contentId',
  });

/**
 * Keys that name JavaScript's object machinery: `__proto__` would be dropped without a word by
 * any plain object it is copied into (or change its prototype), the others shadow what code
 * reading the object expects. Refused by name, so the caller learns which key it was.
 */
const OBJECT_MACHINERY_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const notObjectMachinery = (key: string) => !OBJECT_MACHINERY_KEYS.has(key);
const machineryMessage = (what: string) => ({
  error: (issue: { input: unknown }) => `${what} ${String(issue.input)} is not allowed (a JavaScript object key)`,
});

const headerNameSchema = z
  .string()
  .regex(HEADER_NAME, { message: 'header names are printable ASCII without ":"' })
  .refine(notObjectMachinery, machineryMessage('header name'))
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), {
    error: (issue) => `header ${String(issue.input)} is set by mailroute and cannot be overridden`,
  });

const metadataKeySchema = z
  .string()
  .regex(METADATA_KEY, { message: 'metadata keys are 1-64 of A-Z a-z 0-9 _ . -' })
  .refine(notObjectMachinery, machineryMessage('metadata key'))
  .refine((key) => key !== MESSAGE_ID_TAG, { message: `metadata key ${MESSAGE_ID_TAG} is reserved` });

export const messageInputSchema = z
  .strictObject({
    from: addressSchema,
    to: z.array(addressSchema).default([]),
    cc: z.array(addressSchema).default([]),
    bcc: z.array(addressSchema).default([]),
    replyTo: z.array(addressSchema).default([]),
    subject: noLineBreaks('subject').min(1, { message: 'subject must not be empty' }).max(messageLimits.maxSubjectLength),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z.array(attachmentSchema).max(messageLimits.maxAttachments).default([]),
    headers: z.record(headerNameSchema, noLineBreaks('header value').max(998)).default({}),
    tags: z
      .array(
        z
          .string()
          .min(1)
          .max(255)
          .refine((tag) => !hasControlCharacter(tag), { message: 'must not contain control characters' }),
      )
      .max(messageLimits.maxTags)
      .default([]),
    metadata: z.record(metadataKeySchema, z.string().max(1000)).default({}),
    // Both databases must be able to store it: PostgreSQL refuses timestamps far out of range.
    sendAt: z.coerce
      .date()
      .min(new Date('2000-01-01T00:00:00Z'), { message: 'must be after 2000-01-01' })
      .max(new Date('9999-12-31T23:59:59Z'), { message: 'must be before year 10000' })
      .optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
  })
  .superRefine((message, ctx) => {
    // SendGrid requires a `to` in every personalization; a cc/bcc-only message could not
    // be sent the same way on every provider.
    if (message.to.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'at least one `to` recipient is required' });
    }
    const recipients = message.to.length + message.cc.length + message.bcc.length;
    if (recipients > messageLimits.maxRecipients) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `at most ${messageLimits.maxRecipients} recipients in to, cc and bcc together (got ${recipients})`,
      });
    }
    if (!message.text && !message.html) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'text or html is required' });
    }
    const textBytes = byteLength(message.text);
    const htmlBytes = byteLength(message.html);
    const bodyBytes = textBytes + htmlBytes;
    if (bodyBytes > messageLimits.maxBodyBytes) {
      // The field to shorten: the only body given, else the larger of the two.
      const field = htmlBytes > textBytes ? 'html' : 'text';
      const what = message.text !== undefined && message.html !== undefined ? 'text and html together exceed' : `${field} exceeds`;
      ctx.addIssue({ code: 'custom', path: [field], message: `${what} ${messageLimits.maxBodyBytes} bytes (got ${bodyBytes})` });
    }
    const attachmentBytes = message.attachments.reduce((sum, attachment) => sum + decodedBase64Length(attachment.content), 0);
    const totalBytes = bodyBytes + attachmentBytes;
    // A body over its own limit is reported above; the attachments are at fault only when they push the total over.
    if (attachmentBytes > 0 && bodyBytes <= messageLimits.maxBodyBytes && totalBytes > messageLimits.maxTotalBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['attachments'],
        message: `message exceeds ${messageLimits.maxTotalBytes} bytes with attachments (got ${totalBytes})`,
      });
    }
    if (Object.keys(message.headers).length > messageLimits.maxHeaders) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: `at most ${messageLimits.maxHeaders} custom headers` });
    }
    const metadataBytes = Object.entries(message.metadata).reduce((sum, [k, v]) => sum + byteLength(k) + byteLength(v), 0);
    if (metadataBytes > messageLimits.maxMetadataBytes) {
      ctx.addIssue({ code: 'custom', path: ['metadata'], message: `metadata exceeds ${messageLimits.maxMetadataBytes} bytes` });
    }
  });

/** What an app submits. */
export type MessageInput = z.input<typeof messageInputSchema>;
/** A validated, normalised message, before mailroute gives it an id. */
export type MessageContent = z.output<typeof messageInputSchema>;
export type Attachment = MessageContent['attachments'][number];

/** A message as providers see it: validated content plus our id. */
export interface Message extends MessageContent {
  readonly id: string;
}

export type { Address };

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MailError };

/** Validates an app's message; every problem is reported with the path of its field. */
export function parseMessage(input: unknown): ParseResult<MessageContent> {
  const result = messageInputSchema.safeParse(input);
  const protoKeys = protoKeyIssues(input);
  if (result.success && protoKeys.length === 0) return { ok: true, value: result.data };
  const schemaIssues: FieldIssue[] = result.success
    ? []
    : result.error.issues.flatMap((issue) => {
        const path = issue.path.map(String);
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }));
        }
        // zod reports a bad record key as one wrapper issue; the key's own issues say what is wrong.
        if (issue.code === 'invalid_key') {
          return issue.issues.map((inner) => ({ path: path.join('.'), message: inner.message }));
        }
        return [{ path: path.join('.') || '(message)', message: issue.message }];
      });
  const issues = [...protoKeys, ...schemaIssues];
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return { ok: false, error: mailError('INVALID_MESSAGE', summary, { issues }) };
}

/**
 * zod skips an own `__proto__` key of a record without a word (copying it would replace the
 * result's prototype), so it is looked for in the raw input: a key the caller sent is refused
 * by name, like `constructor`, not lost.
 */
function protoKeyIssues(input: unknown): FieldIssue[] {
  if (typeof input !== 'object' || input === null) return [];
  return (['headers', 'metadata'] as const).flatMap((field) => {
    const record: unknown = Object.hasOwn(input, field) ? (input as Record<string, unknown>)[field] : undefined;
    if (typeof record !== 'object' || record === null || !Object.hasOwn(record, '__proto__')) return [];
    const what = field === 'headers' ? 'header name' : 'metadata key';
    return [{ path: `${field}.__proto__`, message: `${what} __proto__ is not allowed (a JavaScript object key)` }];
  });
}

/** All envelope recipients of a message. */
export function recipientsOf(message: MessageContent): Address[] {
  return [...message.to, ...message.cc, ...message.bcc];
}

function byteLength(value: string | undefined): number {
  return value === undefined ? 0 : Buffer.byteLength(value, 'utf8');
}

function decodedBase64Length(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}
