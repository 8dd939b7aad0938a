import { type Address, MESSAGE_ID_HEADER, MESSAGE_ID_TAG, type Message, mailError, type ParseResult } from '@mailroute/core';

export interface SendGridAddress {
  readonly email: string;
  readonly name?: string;
}

export interface SendGridAttachment {
  readonly content: string;
  readonly filename: string;
  readonly type: string;
  readonly disposition: 'attachment' | 'inline';
  readonly content_id?: string;
}

/** The body of `POST /v3/mail/send`, in SendGrid's own (snake_case) field names. */
export interface SendGridMailBody {
  readonly personalizations: readonly [
    {
      readonly to: readonly SendGridAddress[];
      readonly cc?: readonly SendGridAddress[];
      readonly bcc?: readonly SendGridAddress[];
    },
  ];
  readonly from: SendGridAddress;
  readonly reply_to?: SendGridAddress;
  readonly reply_to_list?: readonly SendGridAddress[];
  readonly subject: string;
  readonly content: readonly { readonly type: 'text/plain' | 'text/html'; readonly value: string }[];
  readonly attachments?: readonly SendGridAttachment[];
  readonly headers: Readonly<Record<string, string>>;
  readonly categories?: readonly string[];
  readonly custom_args: Readonly<Record<string, string>>;
  readonly ip_pool_name?: string;
  readonly mail_settings?: { readonly sandbox_mode: { readonly enable: boolean } };
}

export interface SendGridSendOptions {
  readonly sandboxMode: boolean;
  readonly ipPoolName?: string | undefined;
}

/**
 * Our message as one SendGrid personalization. Fails (PROVIDER_BAD_REQUEST, no request made)
 * only for a message without a To recipient: SendGrid requires one in every personalization,
 * while other providers take cc/bcc-only mail, so the router may fail over.
 */
export function toSendGridMail(message: Message, options: SendGridSendOptions): ParseResult<SendGridMailBody> {
  const { to, cc, bcc } = uniqueRecipients(message);
  if (to.length === 0) {
    return {
      ok: false,
      error: mailError('PROVIDER_BAD_REQUEST', 'SendGrid needs at least one To recipient; this message has only cc/bcc', {
        detail: { requestWritten: false },
      }),
    };
  }
  const replyTo = firstOccurrences()(message.replyTo).map(plainAddress);
  const content = [
    ...(message.text ? [{ type: 'text/plain' as const, value: message.text }] : []),
    ...(message.html ? [{ type: 'text/html' as const, value: message.html }] : []),
  ];
  const categories = [...new Set(message.tags)];
  const body: SendGridMailBody = {
    personalizations: [
      {
        to: to.map(recipientAddress),
        ...(cc.length > 0 ? { cc: cc.map(recipientAddress) } : {}),
        ...(bcc.length > 0 ? { bcc: bcc.map(recipientAddress) } : {}),
      },
    ],
    from: plainAddress(message.from),
    ...(replyTo.length === 1 ? { reply_to: replyTo[0] } : {}),
    ...(replyTo.length > 1 ? { reply_to_list: replyTo } : {}),
    subject: message.subject,
    // SendGrid refuses any other order: text/plain first, then text/html.
    content,
    ...(message.attachments.length > 0 ? { attachments: message.attachments.map(toAttachment) } : {}),
    headers: encodeHeaders({ ...message.headers, [MESSAGE_ID_HEADER]: message.id }),
    ...(categories.length > 0 ? { categories } : {}),
    custom_args: { [MESSAGE_ID_TAG]: message.id, ...message.metadata },
    ...(options.ipPoolName === undefined ? {} : { ip_pool_name: options.ipPoolName }),
    ...(options.sandboxMode ? { mail_settings: { sandbox_mode: { enable: true } } } : {}),
  };
  return { ok: true, value: body };
}

/**
 * SendGrid answers 400 when one address appears twice within a personalization (to, cc and
 * bcc together, compared without case). Each address is kept where it first appears, in the
 * order to, cc, bcc, so someone in both To and Bcc stays visible in To, as the sender wrote.
 */
function uniqueRecipients(message: Message): { to: Address[]; cc: Address[]; bcc: Address[] } {
  const keep = firstOccurrences();
  return { to: keep(message.to), cc: keep(message.cc), bcc: keep(message.bcc) };
}

/** A filter, shared across calls, that keeps the first appearance of each address regardless of case. */
function firstOccurrences(): (addresses: readonly Address[]) => Address[] {
  const seen = new Set<string>();
  return (addresses) =>
    addresses.filter((address) => {
      const key = address.email.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

function plainAddress(address: Address): SendGridAddress {
  return address.name ? { email: address.email, name: address.name } : { email: address.email };
}

/**
 * SendGrid splits recipient names at commas and semicolons and then mails a fragment of the
 * name (sendgrid-ruby#77, sendgrid-python#578); quoting the name keeps it whole.
 */
function recipientAddress(address: Address): SendGridAddress {
  if (!address.name || !/[,;]/.test(address.name)) return plainAddress(address);
  return { email: address.email, name: `"${address.name.replace(/(["\\])/g, '\\$1')}"` };
}

function toAttachment(attachment: Message['attachments'][number]): SendGridAttachment {
  return {
    content: attachment.content,
    filename: attachment.filename,
    type: attachment.contentType,
    disposition: attachment.disposition,
    ...(attachment.contentId === undefined ? {} : { content_id: attachment.contentId }),
  };
}

const PRINTABLE_ASCII = /^[\t\x20-\x7e]*$/;
/** UTF-8 bytes per encoded word: 45 bytes make 60 base64 characters, within RFC 2047's 75. */
const WORD_BYTES = 45;

/** SendGrid copies header values into the mail as they are; non-ASCII ones must be RFC 2047 encoded words. */
function encodeHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, encodeHeaderValue(value)]));
}

export function encodeHeaderValue(value: string): string {
  if (PRINTABLE_ASCII.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const character of value) {
    if (Buffer.byteLength(chunk + character, 'utf8') > WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}
