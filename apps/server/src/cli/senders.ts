import { isStoreError } from '@mailroute/store';
import { COMMAND_HELP } from './help.js';
import { type CliIo, type Command, EXIT_OK, parseFlags, println, UsageError } from './io.js';
import { formatTable } from './output.js';
import { withStore } from './store-access.js';

const USAGE = COMMAND_HELP.senders;

/** Works on the database directly, like `keys`: whoever can read the configuration can reach the database anyway. */
export const sendersCommand: Command = async (args, io) => {
  const [action, ...rest] = args;
  switch (action) {
    case 'list':
      return listSenders(rest, io);
    case 'set':
      return setSenders(rest, io);
    default:
      throw new UsageError(action === undefined ? USAGE : `unknown senders action "${action}"\n${USAGE}`);
  }
};

async function listSenders(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { config: { type: 'string' }, tenant: { type: 'string' } });
  const lists = await withStore(values.config, io, async (store) =>
    values.tenant ? [{ tenantId: values.tenant, senders: await store.listSenders(values.tenant) }] : store.listAllSenders(),
  );
  if (lists.every((list) => list.senders.length === 0)) {
    println(io.stdout, values.tenant ? `tenant ${values.tenant} has no sender list` : 'no tenant has a sender list');
    return EXIT_OK;
  }
  println(
    io.stdout,
    formatTable(
      ['tenant', 'sender'],
      lists.flatMap((list) => list.senders.map((sender) => [list.tenantId, sender])),
    ),
  );
  return EXIT_OK;
}

async function setSenders(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: 'string' } }, true);
  const [tenantId, ...senders] = positionals;
  if (tenantId === undefined) throw new UsageError(`senders set takes a tenant and its senders\n${USAGE}`);
  try {
    const stored = await withStore(values.config, io, (store) => store.setSenders(tenantId, senders));
    println(
      io.stdout,
      stored.length > 0 ? `tenant ${tenantId} may send from: ${stored.join(', ')}` : `tenant ${tenantId} has no sender list now`,
    );
    return EXIT_OK;
  } catch (error) {
    if (isStoreError(error) && error.code === 'INVALID_INPUT') throw new UsageError(error.message);
    throw error;
  }
}
