import { type ApiKeyRecord, type ApiKeyScope, apiKeyScopes, isStoreError } from '@mailroute/store';
import { COMMAND_HELP } from './help.js';
import { type CliIo, type Command, EXIT_OK, parseFlags, println, UsageError } from './io.js';
import { formatTable } from './output.js';
import { withStore } from './store-access.js';

const USAGE = COMMAND_HELP.keys;

/**
 * Works on the database directly, not through the API: the operator needs it before any key
 * exists, and whoever can read the configuration can reach the database anyway.
 */
export const keysCommand: Command = async (args, io) => {
  const [action, ...rest] = args;
  switch (action) {
    case 'create':
      return createKey(rest, io);
    case 'list':
      return listKeys(rest, io);
    case 'revoke':
      return revokeKey(rest, io);
    default:
      throw new UsageError(action === undefined ? USAGE : `unknown keys action "${action}"\n${USAGE}`);
  }
};

function parseScopes(text: string): ApiKeyScope[] {
  const scopes = text
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const unknown = scopes.filter((scope) => !(apiKeyScopes as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--scopes takes a comma-separated list of ${apiKeyScopes.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  }
  return scopes as ApiKeyScope[];
}

async function createKey(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    config: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'string', default: 'send' },
    tenant: { type: 'string' },
  });
  if (!values.name) throw new UsageError(`--name is required\n${USAGE}`);
  const name = values.name;
  const scopes = parseScopes(values.scopes ?? 'send');
  const created = await withStore(values.config, io, (store) =>
    store.createApiKey({ name, scopes, ...(values.tenant ? { tenantId: values.tenant } : {}) }),
  );
  println(io.stdout, `created key ${created.id} "${created.name}" (tenant ${created.tenantId}, scopes ${created.scopes.join(',')})`);
  println(io.stdout, 'the key is shown only this once; only its hash is stored:');
  println(io.stdout);
  println(io.stdout, `  ${created.key}`);
  return EXIT_OK;
}

const when = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

function keyRows(keys: readonly ApiKeyRecord[]): string[][] {
  return keys.map((key) => [
    key.id,
    key.prefix,
    key.name,
    key.tenantId,
    key.scopes.join(','),
    when(key.createdAt),
    when(key.lastUsedAt),
    key.revokedAt === undefined ? 'active' : `revoked ${when(key.revokedAt)}`,
  ]);
}

async function listKeys(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { config: { type: 'string' }, tenant: { type: 'string' } });
  const keys = await withStore(values.config, io, (store) => store.listApiKeys(values.tenant ? { tenantId: values.tenant } : {}));
  if (keys.length === 0) {
    println(io.stdout, 'no API keys');
    return EXIT_OK;
  }
  println(io.stdout, formatTable(['id', 'prefix', 'name', 'tenant', 'scopes', 'created', 'last used', 'state'], keyRows(keys)));
  return EXIT_OK;
}

async function revokeKey(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: 'string' } }, true);
  const [id, ...extra] = positionals;
  if (id === undefined || extra.length > 0) throw new UsageError(`keys revoke takes one key id\n${USAGE}`);
  try {
    const revoked = await withStore(values.config, io, (store) => store.revokeApiKey(id));
    println(io.stdout, `revoked ${revoked.id} "${revoked.name}"`);
    return EXIT_OK;
  } catch (error) {
    if (isStoreError(error) && error.code === 'NOT_FOUND') throw new UsageError(error.message);
    throw error;
  }
}
