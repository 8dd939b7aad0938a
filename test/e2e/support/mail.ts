import type { MailrouteClient } from '@mailroute/client';
import { MESSAGE_ID_HEADER } from '@mailroute/core';
import type { SendGridStandIn } from '@mailroute/standins/sendgrid';
import type { SesEmulator } from '@mailroute/standins/ses';
import type { SmtpStandin } from '@mailroute/standins/smtp';
import { type ParsedMail, simpleParser } from 'mailparser';

/** What a recipient sees of a message; compared field by field between what was sent and what arrived. */
export interface MailView {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Received extends MailView {
  readonly provider: 'sendgrid' | 'ses' | 'smtp';
}

/** A booking confirmation distinct per index, with non-ASCII text so encodings are checked too. */
export function booking(index: number, label: string) {
  return {
    from: 'desk@hotel.example',
    to: [`guest${index}@example.org`],
    subject: `${label}: booking ${index} confirmed — ご予約`,
    text: `Dear guest ${index},\nyour room is booked (${label}). ありがとうございます。`,
  };
}

function sentView(id: string, index: number, label: string): MailView {
  const input = booking(index, label);
  return { id, from: input.from, to: input.to[0] ?? '', subject: input.subject, text: input.text };
}

/** Sends `count` messages with `concurrency` callers; answers what was acknowledged, in order of index. */
export async function sendMany(client: MailrouteClient, count: number, label: string, concurrency = 8, offset = 0): Promise<MailView[]> {
  const acked: MailView[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = offset + next;
        next += 1;
        const { id } = await client.mail.send.mutate(booking(index, label));
        acked.push(sentView(id, index, label));
      }
    }),
  );
  return acked;
}

export interface Load {
  /** Acknowledged so far. */
  readonly acked: MailView[];
  /** Calls that got no acknowledgement (refused while stopping, connection errors). */
  readonly unacknowledged: () => number;
  stop(): Promise<MailView[]>;
}

/** Callers sending without pause until stopped; a failed call is counted and the caller goes on. */
export function startLoad(client: MailrouteClient, label: string, concurrency = 8, pauseMs = 0): Load {
  const acked: MailView[] = [];
  let failed = 0;
  let running = true;
  let index = 0;
  const callers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const mine = index;
      index += 1;
      try {
        const { id } = await client.mail.send.mutate(booking(mine, label));
        acked.push(sentView(id, mine, label));
      } catch {
        failed += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  return {
    acked,
    unacknowledged: () => failed,
    async stop() {
      running = false;
      await Promise.all(callers);
      return acked;
    },
  };
}

function mimeView(parsed: ParsedMail, provider: Received['provider']): Received {
  const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
  const from = parsed.from?.value[0]?.address ?? '';
  return {
    provider,
    id: String(parsed.headers.get(MESSAGE_ID_HEADER.toLowerCase()) ?? ''),
    from,
    to: to?.value[0]?.address ?? '',
    subject: parsed.subject ?? '',
    text: (parsed.text ?? '').trimEnd(),
  };
}

/** Every message the stand-ins received, one entry per reception (a duplicate shows twice). */
export async function receivedMail(standIns: { sendgrid?: SendGridStandIn; ses?: SesEmulator; smtp?: SmtpStandin }): Promise<Received[]> {
  const viaSendGrid = (standIns.sendgrid?.accepted ?? []).map((entry): Received => {
    const body = entry.body as {
      from: { email: string };
      personalizations: { to: { email: string }[] }[];
      subject?: string;
      content?: { type: string; value: string }[];
      custom_args?: Record<string, string>;
    };
    return {
      provider: 'sendgrid',
      id: String(body.custom_args?.mailroute_id ?? ''),
      from: body.from.email,
      to: body.personalizations[0]?.to[0]?.email ?? '',
      subject: body.subject ?? '',
      text: (body.content?.find((part) => part.type === 'text/plain')?.value ?? '').trimEnd(),
    };
  });
  const viaSes = await Promise.all(
    ((await standIns.ses?.messages()) ?? []).map(async (mail) => mimeView(await simpleParser(mail.raw ?? Buffer.alloc(0)), 'ses')),
  );
  const viaSmtp = (standIns.smtp?.delivered() ?? []).map((message) => mimeView(message.parsed, 'smtp'));
  return [...viaSendGrid, ...viaSes, ...viaSmtp];
}

/** Ids that arrived more than once. */
export function duplicates(received: readonly { id: string }[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const { id } of received) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until nothing is left to send. A stand-in has a message before the worker commits
 * the attempt it answered, so counts read from the store right after receipt can be short.
 */
export function settled(client: MailrouteClient): Promise<void> {
  return until(async () => (await client.stats.overview.query()).queueDepth === 0, 5_000, 'every attempt to be recorded');
}
