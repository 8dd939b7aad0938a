import { alertKinds, alertStates } from '@mailroute/store';
import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, println, UsageError } from './io.js';
import { formatTable } from './output.js';
import { connect, describeApiError, remoteFlags } from './remote.js';

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} takes ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

function isoTime(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`${flag} takes a date-time such as 2025-01-31T09:00:00Z, got "${value}"`);
  return new Date(time).toISOString();
}

function lasted(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1_000)} s`;
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * `mailroute alerts`: the alert history through the API's `alerts.list`, newest first: when
 * each incident started, whether it is still firing, how long it lasted, which notices the
 * channels took or refused, and what the monitor said.
 */
export const alertsCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, {
    ...remoteFlags,
    state: { type: 'string' },
    kind: { type: 'string' },
    subject: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string', default: '20' },
    cursor: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new UsageError(`--limit takes 1 to 200, got "${values.limit}"`);
  const state = oneOf('--state', values.state, alertStates);
  const kind = oneOf('--kind', values.kind, alertKinds);
  const since = isoTime('--since', values.since);
  const until = isoTime('--until', values.until);
  const client = await connect(values, io);
  try {
    const page = await client.alerts.list.query({
      limit,
      ...(state ? { state } : {}),
      ...(kind ? { kind } : {}),
      ...(values.subject ? { subject: values.subject } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(values.cursor ? { cursor: values.cursor } : {}),
    });
    if (values.json) {
      println(io.stdout, JSON.stringify(page, null, 2));
      return EXIT_OK;
    }
    if (page.items.length === 0) {
      println(io.stdout, 'no alerts');
      return EXIT_OK;
    }
    const now = Date.now();
    const rows = page.items.map((alert) => {
      const sent = alert.notifications.filter((notice) => notice.ok).length;
      const refused = alert.notifications.filter((notice) => !notice.ok);
      const lastRefusal = refused.at(-1);
      return [
        new Date(alert.startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        alert.state,
        alert.kind,
        alert.subject,
        lasted((alert.resolvedAt ?? now) - alert.startedAt),
        `${sent} sent${refused.length > 0 ? `, ${refused.length} failed (${lastRefusal?.channel}: ${lastRefusal?.error ?? 'refused'})` : ''}`,
        alert.summary,
      ];
    });
    println(io.stdout, formatTable(['started', 'state', 'kind', 'subject', 'lasted', 'notices', 'summary'], rows));
    if (page.nextCursor) println(io.stdout, `more: mailroute alerts --cursor ${page.nextCursor}`);
    return EXIT_OK;
  } catch (error) {
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`alerts: ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};
