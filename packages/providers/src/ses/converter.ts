import type { SendRawEmailCommandInput } from '@aws-sdk/client-ses';
import { type Address, MESSAGE_ID_HEADER, MESSAGE_ID_TAG, type Message, recipientsOf } from '@mailroute/core';
import MailComposer from 'nodemailer/lib/mail-composer';

/** SES accepts only this in tag names and values (MessageTag, SES API reference). */
const SES_TAG_TEXT = /^[A-Za-z0-9_-]{1,256}$/;
/** SES refuses a message with more tags than this. */
export const MAX_SES_TAGS = 50;

export interface SesSendRequest {
  readonly input: SendRawEmailCommandInput;
  /** Metadata keys and tags that could not travel as SES message tags. */
  readonly skippedTags: readonly string[];
}

export interface SesConvertOptions {
  readonly configurationSetName?: string | undefined;
}

/** Our message as a SendRawEmail request: the MIME message plus envelope, tags and configuration set. */
export async function toSendRawEmailInput(message: Message, options: SesConvertOptions = {}): Promise<SesSendRequest> {
  const { tags, skipped } = messageTags(message);
  return {
    input: {
      RawMessage: { Data: await buildMime(message) },
      // Bcc lives only here: the MIME carries no Bcc header, SES delivers to every destination.
      Destinations: recipientsOf(message).map((address) => address.email),
      Tags: tags,
      ...(options.configurationSetName === undefined ? {} : { ConfigurationSetName: options.configurationSetName }),
    },
    skippedTags: skipped,
  };
}

/** RFC 5322 message built by nodemailer (encoded words for UTF-8, multipart/related for cid images). */
export function buildMime(message: Message): Promise<Buffer> {
  const composer = new MailComposer({
    from: mimeAddress(message.from),
    to: message.to.map(mimeAddress),
    cc: message.cc.map(mimeAddress),
    replyTo: message.replyTo.map(mimeAddress),
    subject: message.subject,
    text: message.text,
    html: message.html,
    attachments: message.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: Buffer.from(attachment.content, 'base64'),
      contentType: attachment.contentType,
      contentDisposition: attachment.disposition,
      ...(attachment.contentId === undefined ? {} : { cid: attachment.contentId }),
    })),
    headers: { ...message.headers, [MESSAGE_ID_HEADER]: message.id },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

/**
 * Our id first, then metadata, then plain tags (as name=`true`). An entry whose name or value
 * SES would refuse is skipped, not sanitized: a rewritten value would come back in SES events
 * as something the app never set, and one bad tag would make SES refuse the whole message.
 * Skipped entries stay on the stored message; the id also travels in the X-Mailroute-Id header.
 */
export function messageTags(message: Message): { tags: { Name: string; Value: string }[]; skipped: string[] } {
  const candidates: [string, string][] = [
    [MESSAGE_ID_TAG, message.id],
    ...Object.entries(message.metadata),
    ...message.tags.map((tag): [string, string] => [tag, 'true']),
  ];
  const tags: { Name: string; Value: string }[] = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  for (const [name, value] of candidates) {
    const fits = SES_TAG_TEXT.test(name) && SES_TAG_TEXT.test(value) && !names.has(name) && tags.length < MAX_SES_TAGS;
    if (!fits) {
      skipped.push(name);
      continue;
    }
    names.add(name);
    tags.push({ Name: name, Value: value });
  }
  return { tags, skipped };
}

function mimeAddress(address: Address): { name: string; address: string } {
  return { name: address.name ?? '', address: address.email };
}
