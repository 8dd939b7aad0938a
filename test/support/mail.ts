import { MESSAGE_ID_HEADER, type MessageContent, parseMessage } from '@mailroute/core';
import type { SendGridStandIn } from '@mailroute/standins/sendgrid';
import type { SmtpStandin } from '@mailroute/standins/smtp';

/** A small booking confirmation, distinct per index (the shape the chaos tests send by thousands). */
export function booking(index: number): MessageContent {
  const parsed = parseMessage({
    from: 'desk@hotel.example',
    to: [`guest${index}@example.org`],
    subject: `Booking ${index} confirmed`,
    text: `Booking ${index}`,
  });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

export const bookings = (count: number, offset = 0): MessageContent[] => Array.from({ length: count }, (_, i) => booking(offset + i));

/** Our ids of the messages the SendGrid stand-in accepted, one entry per acceptance. */
export function sendGridReceivedIds(standIn: SendGridStandIn): string[] {
  return standIn.accepted.map((entry) => String(entry.body.custom_args?.mailroute_id));
}

/** Our ids of the messages the SMTP stand-in kept (what a recipient would get), one entry per message. */
export function smtpReceivedIds(standIn: SmtpStandin): string[] {
  return standIn.delivered().map((message) => String(message.parsed.headers.get(MESSAGE_ID_HEADER.toLowerCase())));
}

/** Ids that occur more than once. */
export function duplicatesOf(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
}
