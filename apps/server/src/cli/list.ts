import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, println, UsageError } from './io.js';
import { formatTable } from './output.js';
import { connect, describeApiError, remoteFlags } from './remote.js';

/**
 * `mailroute list [QUERY]`: messages matching a search query, newest first, through the API
 * (`mail.search`; the server parses the query, so the CLI and the console read it the same
 * way). Words after the flags are joined into one query.
 */
export const listCommand: Command = async (args, io) => {
  const { values, positionals } = parseFlags(
    args,
    { ...remoteFlags, limit: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } },
    true,
  );
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit takes a whole number from 1 to 500');
  const client = await connect(values, io);
  try {
    const page = await client.mail.search.query({ q: positionals.join(' '), limit });
    if (values.json) {
      println(io.stdout, JSON.stringify(page, null, 2));
      return EXIT_OK;
    }
    const rows = page.items.map((item) => [
      item.id,
      new Date(item.createdAt).toISOString(),
      item.status,
      item.provider ?? '',
      item.to.map((address) => address.email).join(', '),
      item.subject,
    ]);
    println(io.stdout, formatTable(['id', 'accepted', 'status', 'provider', 'to', 'subject'], rows));
    io.stderr.write(
      `${page.items.length} message(s)${page.nextCursor ? `; more match (raise --limit, or use mailroute export --query)` : ''}\n`,
    );
    return EXIT_OK;
  } catch (error) {
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`list failed: ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};
