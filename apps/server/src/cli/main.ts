import { ConfigError } from '../config/load.js';
import { COMMAND_HELP, wantsHelp } from './help.js';
import { type CliIo, type Command, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from './io.js';

export const USAGE = `usage: mailroute <command> [options]

commands:
  serve [--role all|api|worker]   run mailroute: the API and the worker (all, the default), or one of them
  worker                          same as serve --role worker
  migrate                         apply pending database migrations and exit
  send --to ADDR --subject S --text T [--from ADDR]
                                  send a test message through the API
  retry [--status dead,failed] [--provider P] [--recipient R] [--tag T] [--since T] [--until T]
        [--id ID ...] [--dry-run]
                                  requeue failed or dead mail through the API
  list [QUERY] [--limit N] [--json]
                                  messages matching a search query (to: from: subject: status:
                                  provider: tag: key: id: before: after:, -term, "phrase"), newest first
  export [--query Q] [--status S,...] [--provider P] [--recipient R] [--tag T] [--since T] [--until T]
         [--format csv|json] [--output FILE]
                                  the matching messages for customer support, through the API
  keys create|list|revoke         manage API keys (directly on the database; scopes send, read,
                                  admin, operator: see mailroute keys)
  senders list|set                the senders each tenant may use in from (directly on the database)
  providers                       provider health through the API
  providers enable|drain|disable|force-open NAME [--note TEXT]
                                  an operator decision every process obeys (see README)
  alerts [--state firing|resolved] [--kind K] [--subject S] [--since T] [--until T] [--limit N] [--json]
                                  alert history through the API: incidents, notices, summaries
  config check [--config FILE]    validate a configuration file

options:
  --config FILE     configuration (YAML or JSON); default: MAILROUTE_CONFIG, else ./mailroute.yaml
                    (.yml, .json) when present, else the embedded defaults
  --log-level LVL   serve/worker: trace, debug, info, warn, error (default info, or MAILROUTE_LOG_LEVEL)
  --url URL         send/retry/list/export/providers/alerts: the API (default MAILROUTE_URL, else server.host/port)
  --api-key KEY     send/retry/list/export/providers/alerts: default MAILROUTE_API_KEY

\`mailroute <command> --help\` shows a command's options.

exit codes: 0 ok, 1 runtime error, 2 usage or configuration error`;

/**
 * Each command's module is imported when it runs: a worker does not hold the API client, an
 * operator's `send` does not load the database drivers.
 */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand(),
  worker: async () => (await import('./serve.js')).serveCommand('worker'),
  migrate: async () => (await import('./migrate.js')).migrateCommand,
  send: async () => (await import('./send.js')).sendCommand,
  retry: async () => (await import('./retry.js')).retryCommand,
  list: async () => (await import('./list.js')).listCommand,
  export: async () => (await import('./export.js')).exportCommand,
  keys: async () => (await import('./keys.js')).keysCommand,
  senders: async () => (await import('./senders.js')).sendersCommand,
  providers: async () => (await import('./providers.js')).providersCommand,
  alerts: async () => (await import('./alerts.js')).alertsCommand,
  config: async () => async (args, io) => {
    const [action, ...rest] = args;
    if (action !== 'check') throw new UsageError('usage: mailroute config check [--config FILE]');
    return (await import('./config-check.js')).configCheckCommand(rest, io);
  },
};

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stderr.write(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const load = commands[name];
  if (!load) {
    io.stderr.write(`unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const help = COMMAND_HELP[name];
  if (help !== undefined && wantsHelp(args)) {
    io.stdout.write(`${help}\n`);
    return EXIT_OK;
  }
  try {
    return await (await load())(args, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_RUNTIME;
  }
}
