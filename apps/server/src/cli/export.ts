import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { type MessageStatus, messageStatuses } from '@mailroute/core';
import { type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, parseFlags, UsageError } from './io.js';
import { connect, describeApiError, remoteFlags } from './remote.js';
import { isoTime } from './retry.js';

const formats = ['csv', 'json'] as const;
type Format = (typeof formats)[number];

function parseStatuses(text: string): MessageStatus[] {
  const statuses = text.split(',').map((status) => status.trim());
  const wrong = statuses.filter((status) => !(messageStatuses as readonly string[]).includes(status));
  if (wrong.length > 0) throw new UsageError(`--status takes ${messageStatuses.join(', ')}; got ${wrong.join(', ')}`);
  return statuses as MessageStatus[];
}

/**
 * Creates the output file (owner-only: it lists customers' addresses) and waits until it is
 * open, so a folder that does not exist is one clear error before anything is fetched.
 */
async function openOutput(path: string): Promise<WriteStream> {
  const file = createWriteStream(path, { mode: 0o600 });
  try {
    await once(file, 'open');
  } catch (error) {
    throw new Error(`cannot write ${path}: ${(error as Error).message}`);
  }
  return file;
}

/** Writes and waits when the stream is full, so a slow disk or pipe bounds what is held in memory. */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * `mailroute export`: the messages a filter matches (the same filter as `mail.list`) as CSV or
 * JSON for customer support, fetched a page at a time through the API and written as each
 * page arrives; progress goes to stderr so stdout can be the file.
 */
export const exportCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, {
    ...remoteFlags,
    query: { type: 'string', short: 'q' },
    status: { type: 'string' },
    provider: { type: 'string' },
    recipient: { type: 'string' },
    tag: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    format: { type: 'string', default: 'csv' },
    output: { type: 'string', short: 'o' },
    'page-size': { type: 'string', default: '1000' },
  });
  const format = values.format as Format;
  if (!formats.includes(format)) throw new UsageError(`--format takes ${formats.join(' or ')}, got "${values.format}"`);
  const limit = Number(values['page-size']);
  if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new UsageError('--page-size takes a whole number from 1 to 5000');
  const createdFrom = isoTime('--since', values.since);
  const createdTo = isoTime('--until', values.until);
  const filter = {
    ...(values.status ? { status: parseStatuses(values.status) } : {}),
    ...(values.provider ? { provider: values.provider } : {}),
    ...(values.recipient ? { recipient: values.recipient } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
    ...(createdFrom ? { createdFrom } : {}),
    ...(createdTo ? { createdTo } : {}),
  };
  const query = values.query;
  if (query !== undefined && Object.keys(filter).length > 0) {
    throw new UsageError('--query replaces --status, --provider, --recipient, --tag, --since and --until: give one or the other');
  }
  const client = await connect(values, io);
  let file: WriteStream | undefined;
  try {
    file = values.output ? await openOutput(values.output) : undefined;
  } catch (error) {
    io.stderr.write(`export: ${(error as Error).message}\n`);
    return EXIT_RUNTIME;
  }
  // A write error later (disk full) rejects the drain wait or `finished`; this listener only
  // keeps it from also surfacing as an unhandled 'error' event that ends the process.
  file?.on('error', () => {});
  const out = file ?? io.stdout;
  let rows = 0;
  try {
    let cursor: string | undefined;
    if (format === 'json') await write(out, '[');
    do {
      const page = await client.mail.export.query({
        ...(query === undefined ? filter : { q: query }),
        format,
        limit,
        ...(cursor ? { cursor } : {}),
      });
      if (page.format === 'csv') await write(out, page.csv);
      else {
        const body = page.rows.map((row) => JSON.stringify(row)).join(',\n');
        if (body) await write(out, `${rows > 0 ? ',\n' : '\n'}${body}`);
      }
      rows += page.count;
      cursor = page.nextCursor;
      if (cursor) io.stderr.write(`exported ${rows} message(s) so far\n`);
    } while (cursor);
    if (format === 'json') await write(out, rows > 0 ? '\n]\n' : ']\n');
    if (file) {
      file.end();
      await finished(file);
    }
    io.stderr.write(`exported ${rows} message(s)${values.output ? ` to ${values.output}` : ''}\n`);
    return EXIT_OK;
  } catch (error) {
    file?.destroy();
    const { text, badInput } = describeApiError(error);
    io.stderr.write(`export failed after ${rows} message(s): ${text}\n`);
    return badInput ? EXIT_USAGE : EXIT_RUNTIME;
  }
};
