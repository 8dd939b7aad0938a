import { domainToASCII } from 'node:url';
import { type Address, MESSAGE_ID_HEADER, type Message } from '@mailroute/core';
import type { Address as MailAddress, Attachment as MailAttachment, SendMailOptions } from 'nodemailer';

/** SMTP has no tag or metadata fields: they travel as headers the receiving side can read back. */
export const TAG_HEADER = 'X-Mailroute-Tag';
export const METADATA_HEADER_PREFIX = 'X-Mailroute-Meta-';

/**
 * The Message-ID we give the message, `<id@sender-domain>`. Setting it ourselves makes the
 * provider message id known before the server answers, and it survives into bounces.
 */
export function messageIdFor(message: Message): string {
  const domain = message.from.email.slice(message.from.email.lastIndexOf('@') + 1);
  return `<${message.id}@${domainToASCII(domain) || domain}>`;
}

/** Every envelope recipient; Bcc recipients are here and nowhere in the headers. */
export function envelopeOf(message: Message): { from: string; to: string[] } {
  return { from: message.from.email, to: [...message.to, ...message.cc, ...message.bcc].map((address) => address.email) };
}

/** Our message as nodemailer mail options. Pure: no I/O, no clock. */
export function toMailOptions(message: Message): SendMailOptions {
  return {
    messageId: messageIdFor(message),
    from: mailAddress(message.from),
    to: message.to.map(mailAddress),
    cc: message.cc.map(mailAddress),
    // No `bcc` field: nodemailer would only drop it from the headers again; the envelope carries them.
    replyTo: message.replyTo.map(mailAddress),
    envelope: envelopeOf(message),
    subject: message.subject,
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(message.html === undefined ? {} : { html: message.html }),
    attachments: message.attachments.map(
      (attachment): MailAttachment => ({
        filename: attachment.filename,
        content: attachment.content,
        encoding: 'base64',
        contentType: attachment.contentType,
        contentDisposition: attachment.disposition,
        ...(attachment.contentId === undefined ? {} : { cid: attachment.contentId }),
      }),
    ),
    headers: headersOf(message),
  };
}

function headersOf(message: Message): Record<string, string | string[]> {
  const ours: Record<string, string | string[]> = { [MESSAGE_ID_HEADER]: message.id };
  if (message.tags.length > 0) ours[TAG_HEADER] = [...message.tags];
  for (const [key, value] of Object.entries(message.metadata)) ours[`${METADATA_HEADER_PREFIX}${key}`] = value;
  const taken = new Set(Object.keys(ours).map((name) => name.toLowerCase()));
  const custom = Object.entries(message.headers).filter(([name]) => !taken.has(name.toLowerCase()));
  return { ...Object.fromEntries(custom), ...ours };
}

function mailAddress(address: Address): MailAddress {
  return { name: address.name ?? '', address: address.email };
}
