import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, println, UsageError } from './io.js';
import { formatTable } from './output.js';
import { connect, describeApiError, remoteFlags } from './remote.js';

const percent = (rate: number | undefined) => (rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`);
const ms = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} ms`);

/** The actions an operator types, and the state each one stores. */
const actions = { enable: 'enabled', drain: 'drained', disable: 'disabled', 'force-open': 'forced_open' } as const;
type Action = keyof typeof actions;

const isAction = (word: string | undefined): word is Action => word !== undefined && Object.hasOwn(actions, word);

/**
 * `mailroute providers`: one row per configured provider, from the API's `providers.health`;
 * `mailroute providers enable|drain|disable|force-open NAME [--note TEXT]` stores a state
 * every process obeys.
 */
export const providersCommand: Command = async (args, io) => {
  const [first, ...rest] = args;
  if (isAction(first)) return setStateCommand(first, rest, io);
  if (first !== undefined && !first.startsWith('-')) {
    throw new UsageError(`unknown providers action "${first}"; use ${Object.keys(actions).join(', ')}, or none to list`);
  }
  return listCommand(args, io);
};

const setStateCommand = async (action: Action, args: readonly string[], io: Parameters<Command>[1]): Promise<number> => {
  const { values, positionals } = parseFlags(args, { ...remoteFlags, note: { type: 'string' } }, true);
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0) throw new UsageError(`usage: mailroute providers ${action} NAME [--note TEXT]`);
  const client = await connect(values, io);
  try {
    const record = await client.providers.setState.mutate({
      provider: name,
      state: actions[action],
      ...(values.note === undefined ? {} : { note: values.note }),
    });
    println(
      io.stdout,
      `${record.provider} is now ${record.state}${record.note ? ` (${record.note})` : ''}; every process applies it within its overrides refresh`,
    );
    return EXIT_OK;
  } catch (error) {
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`providers ${action}: ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};

/** The longest window `providers.health` takes: 7 days. */
export const MAX_WINDOW_MINUTES = 7 * 24 * 60;

/** `--window` in whole minutes, from 1 to 7 days; anything else is a usage error that says so. */
export function windowMinutes(text: string): number {
  const minutes = /^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_WINDOW_MINUTES) {
    throw new UsageError(`--window takes whole minutes from 1 to ${MAX_WINDOW_MINUTES} (7 days), got "${text}"`);
  }
  return minutes;
}

const listCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, { ...remoteFlags, window: { type: 'string', default: '15' } });
  const minutes = windowMinutes(values.window ?? '15');
  const client = await connect(values, io);
  try {
    const health = await client.providers.health.query({ windowMs: minutes * 60_000 });
    const rows = health.providers.map((provider) => [
      provider.name,
      provider.type ?? '-',
      provider.state,
      provider.breaker ? `${provider.breaker.state}${provider.breaker.forced ? ' (forced)' : ''}` : '-',
      String(provider.recent.attempts),
      percent(provider.recent.successRate),
      ms(provider.recent.latencyAvgMs),
      ms(provider.recent.latencyP95Ms),
      provider.liveIn === 0 ? '-' : `${provider.openIn}/${provider.liveIn}`,
      provider.recent.lastError
        ? `${provider.recent.lastError.errorCode ?? ''}${provider.recent.lastError.statusCode ? ` (${provider.recent.lastError.statusCode})` : ''} ${new Date(provider.recent.lastError.at).toISOString()}`.trim()
        : '-',
      provider.note ?? '',
    ]);
    println(
      io.stdout,
      `last ${Math.round(health.windowMs / 60_000)} min, attempts from every process; breaker: this server's; open in: live processes with it open`,
    );
    println(
      io.stdout,
      formatTable(
        ['provider', 'type', 'state', 'breaker', 'attempts', 'success', 'avg', 'p95', 'open in', 'last provider error', 'note'],
        rows,
      ),
    );
    return EXIT_OK;
  } catch (error) {
    io.stderr.write(`providers: ${describeApiError(error).text}\n`);
    return EXIT_RUNTIME;
  }
};
