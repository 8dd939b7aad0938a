import { type Command, EXIT_OK, EXIT_RUNTIME, parseFlags, println } from './io.js';
import { formatTable } from './output.js';
import { connect, describeApiError, remoteFlags } from './remote.js';

const percent = (rate: number | undefined) => (rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`);
const ms = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} ms`);

/** `mailroute providers`: one row per configured provider, from the API's `providers.health`. */
export const providersCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, { ...remoteFlags, window: { type: 'string', default: '15' } });
  const minutes = Number(values.window);
  const client = await connect(values, io);
  try {
    const health = await client.providers.health.query(
      Number.isFinite(minutes) && minutes > 0 ? { windowMs: minutes * 60_000 } : undefined,
    );
    const rows = health.providers.map((provider) => [
      provider.name,
      provider.type ?? '-',
      provider.state,
      provider.breaker?.state ?? '-',
      String(provider.recent.attempts),
      percent(provider.recent.successRate),
      ms(provider.recent.latencyAvgMs),
      ms(provider.recent.latencyP95Ms),
      provider.recent.lastError
        ? `${provider.recent.lastError.errorCode ?? ''}${provider.recent.lastError.statusCode ? ` (${provider.recent.lastError.statusCode})` : ''} ${new Date(provider.recent.lastError.at).toISOString()}`.trim()
        : '-',
    ]);
    println(io.stdout, `last ${Math.round(health.windowMs / 60_000)} min, attempts from every process; breaker: this server's`);
    println(
      io.stdout,
      formatTable(['provider', 'type', 'state', 'breaker', 'attempts', 'success', 'avg', 'p95', 'last provider error'], rows),
    );
    return EXIT_OK;
  } catch (error) {
    io.stderr.write(`providers: ${describeApiError(error).text}\n`);
    return EXIT_RUNTIME;
  }
};
