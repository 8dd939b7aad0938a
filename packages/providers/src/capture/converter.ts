import type { Address, Message } from '@mailroute/core';
import MailComposer from 'nodemailer/lib/mail-composer';
import { envelopeOf, messageIdFor, toMailOptions } from '../smtp/converter.js';

/** What the `.json` beside each `.eml` holds: enough to find and check a message without parsing MIME. */
export interface CaptureRecord {
  readonly providerMessageId: string;
  /** Our message id (`message.id`). */
  readonly messageId: string;
  /** The Message-ID header of the `.eml`. */
  readonly messageIdHeader: string;
  readonly capturedAt: string;
  /** Every recipient the message would have gone to, Bcc included. */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly from: Address;
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  readonly bcc: readonly Address[];
  readonly replyTo: readonly Address[];
  readonly subject: string;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly attachments: readonly { readonly filename: string; readonly contentType: string; readonly disposition: string }[];
}

export interface CapturedMessage extends CaptureRecord {
  /** The message as it would have gone over SMTP (no Bcc header). */
  readonly raw: Buffer;
}

export function toCaptureRecord(message: Message, providerMessageId: string, capturedAt: Date): CaptureRecord {
  return {
    providerMessageId,
    messageId: message.id,
    messageIdHeader: messageIdFor(message),
    capturedAt: capturedAt.toISOString(),
    envelope: envelopeOf(message),
    from: message.from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    replyTo: message.replyTo,
    subject: message.subject,
    tags: message.tags,
    metadata: message.metadata,
    headers: message.headers,
    attachments: message.attachments.map(({ filename, contentType, disposition }) => ({ filename, contentType, disposition })),
  };
}

/** The MIME source, built exactly as the SMTP provider would send it, so a capture shows the real thing. */
export function toMime(message: Message): Promise<Buffer> {
  return new MailComposer(toMailOptions(message)).compile().build();
}
