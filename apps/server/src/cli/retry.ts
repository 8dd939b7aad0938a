import { requeueableStatuses } from '@mailroute/core';
import type { KeptBackMessage, KeptBackReason } from '@mailroute/store';
import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, println, UsageError } from './io.js';
import { progressBar } from './output.js';
import { connect, describeApiError, type MailrouteClient, remoteFlags } from './remote.js';

type RetryableStatus = (typeof requeueableStatuses)[number];

interface Filter {
  status: RetryableStatus[];
  provider?: string;
  recipient?: string;
  tag?: string;
  createdFrom?: string;
  createdTo?: string;
}

/** Messages per request: each is one transaction on the server, short enough not to hold up senders. */
const CHUNK = 500;

export function isoTime(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`${flag} takes a date-time such as 2025-01-31T09:00:00Z, got "${value}"`);
  return new Date(time).toISOString();
}

function parseStatuses(text: string): RetryableStatus[] {
  const statuses = text.split(',').map((status) => status.trim());
  const wrong = statuses.filter((status) => !(requeueableStatuses as readonly string[]).includes(status));
  if (wrong.length > 0) throw new UsageError(`--status takes ${requeueableStatuses.join(', ')}; got ${wrong.join(', ')}`);
  return statuses as RetryableStatus[];
}

/**
 * `mailroute retry`: requeues failed, dead or cancelled mail through the API. A dry run
 * first counts what matches; the requeue then goes page by page (a progress bar on a
 * terminal), so a large backlog never sits in one long transaction.
 */
export const retryCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, {
    ...remoteFlags,
    id: { type: 'string', multiple: true },
    status: { type: 'string', default: 'dead' },
    provider: { type: 'string' },
    recipient: { type: 'string' },
    tag: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  });
  const ids = values.id ?? [];
  const filter: Filter = {
    status: parseStatuses(values.status ?? 'dead'),
    ...(values.provider ? { provider: values.provider } : {}),
    ...(values.recipient ? { recipient: values.recipient } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
  };
  const from = isoTime('--since', values.since);
  const to = isoTime('--until', values.until);
  if (from) filter.createdFrom = from;
  if (to) filter.createdTo = to;
  const reason = values.reason ?? 'mailroute retry';
  const client = await connect(values, io);

  try {
    const preview = await client.mail.retry.mutate(ids.length > 0 ? { ids, dryRun: true } : { filter, dryRun: true });
    println(io.stdout, `${preview.matched} matching message(s): ${preview.requeued} to requeue${keptBackText(preview.keptBackCount)}`);
    if (values['dry-run']) {
      for (const kept of preview.keptBack.slice(0, LISTED)) println(io.stdout, `  kept back ${kept.id}: ${whyKept(kept)}`);
      if (preview.keptBack.length > LISTED) println(io.stdout, `  ... and more (mailroute export lists every message)`);
      return EXIT_OK;
    }
    if (preview.requeued === 0) return EXIT_OK;

    const bar = progressBar(io.stdout, preview.requeued, 'requeueing');
    let requeued = 0;
    const kept: Record<KeptBackReason, number> = { suppressed: 0, sender_not_allowed: 0, provider_has_it: 0, not_retryable: 0 };
    for await (const chunk of ids.length > 0 ? chunks(ids) : pages(client, filter)) {
      const report = await client.mail.retry.mutate({ ids: chunk, reason });
      requeued += report.requeued;
      for (const why of keptBackReasons) kept[why] += report.keptBackCount[why];
      bar.update(requeued);
    }
    bar.finish();
    println(io.stdout, `requeued ${requeued} message(s)${keptBackText(kept)}`);
    return EXIT_OK;
  } catch (error) {
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`retry failed: ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};

/** Kept-back messages a dry run lists one by one. */
const LISTED = 20;

const reasonText: Record<KeptBackReason, string> = {
  suppressed: 'a recipient is suppressed',
  sender_not_allowed: 'the sender is no longer allowed',
  provider_has_it: 'a provider already has it',
  not_retryable: 'no longer failed or dead',
};
// A type-only import keeps the store (and its database drivers) out of this command.
const keptBackReasons = Object.keys(reasonText) as KeptBackReason[];

function keptBackText(counts: Readonly<Record<KeptBackReason, number>>): string {
  const parts = keptBackReasons.filter((why) => counts[why] > 0).map((why) => `${counts[why]} ${reasonText[why]}`);
  return parts.length === 0 ? '' : `; kept back: ${parts.join(', ')}`;
}

function whyKept(kept: KeptBackMessage): string {
  const facts = [
    ...(kept.addresses ?? []),
    ...(kept.sender ? [kept.sender] : []),
    ...(kept.evidence ?? []),
    ...(kept.status ? [`now ${kept.status}`] : []),
  ];
  return `${reasonText[kept.reason]}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

function* chunks(ids: readonly string[]): Generator<string[]> {
  for (let start = 0; start < ids.length; start += CHUNK) yield ids.slice(start, start + CHUNK);
}

/** Ids of the matching messages, a page at a time (the cursor moves on, so a message requeued and failed again is not retried twice). */
async function* pages(client: MailrouteClient, filter: Filter): AsyncGenerator<string[]> {
  let cursor: string | undefined;
  do {
    const page = await client.mail.list.query({ ...filter, limit: CHUNK, ...(cursor ? { cursor } : {}) });
    const retryable = page.items.filter((item) => (requeueableStatuses as readonly string[]).includes(item.status)).map((item) => item.id);
    if (retryable.length > 0) yield retryable;
    cursor = page.nextCursor;
  } while (cursor);
}
