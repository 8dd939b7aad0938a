/** The options every command that talks to the API takes. */
const REMOTE = `  --url URL         the API (default MAILROUTE_URL, else server.host/port of the configuration)
  --api-key KEY     default MAILROUTE_API_KEY
  --config FILE     configuration to find the API address in (default as for serve)`;

const CONFIG = `  --config FILE     configuration (YAML or JSON); default MAILROUTE_CONFIG, else ./mailroute.yaml
                    (.yml, .json) when present, else the embedded defaults`;

const TIMES = `  --since TIME      created at or after (ISO 8601, e.g. 2025-01-31T09:00:00Z)
  --until TIME      created before`;

const SERVE = (command: string, role: boolean) => `usage: mailroute ${command} [options]

${role ? 'runs mailroute: the API and the worker (role all), or one of them' : 'runs a worker only: sends queued mail, serves no API'}

options:
${CONFIG}
${role ? '  --role ROLE       all (default), api or worker\n' : ''}  --log-level LVL   trace, debug, info, warn, error, fatal (default info, or MAILROUTE_LOG_LEVEL)
  --host HOST       listen address, over server.host
  --port PORT       listen port, over server.port (0 picks a free port)`;

/** `mailroute <command> --help`: what the command does and every option it takes. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: SERVE('serve', true),
  worker: SERVE('worker', false),
  migrate: `usage: mailroute migrate [--config FILE]

applies pending database migrations and exits

options:
${CONFIG}`,
  send: `usage: mailroute send --to ADDR [--to ADDR ...] [options]

sends a test message through the API

options:
  --to ADDR         recipient (required; repeat for more)
  --from ADDR       sender (default MAILROUTE_FROM, else mailroute@example.com)
  --subject TEXT    default "mailroute test message"
  --text TEXT       the plain-text body
${REMOTE}`,
  retry: `usage: mailroute retry [filters] [--id ID ...] [--dry-run] [options]

requeues failed, dead or cancelled mail through the API (scope admin)

options:
  --status S,...    dead (default), failed, cancelled
  --provider P      last tried on this provider
  --recipient ADDR  sent to this address
  --tag T           carrying this tag
${TIMES}
  --id ID           these messages only (repeat), instead of the filters
  --reason TEXT     recorded with each requeue (default "mailroute retry")
  --dry-run         count and list what would be requeued, change nothing
${REMOTE}`,
  export: `usage: mailroute export [filters] [--format csv|json] [--output FILE] [options]

the matching messages for customer support, page by page through the API (scope read);
CSV cells starting with =, +, -, @, tab or CR get a leading ' (formula injection)

options:
  --status S,...    message statuses: queued, scheduled, sending, held, sent, retrying, failed,
                    dead, cancelled, delivered, deferred, bounced, dropped, complained
  --provider P      last tried on this provider
  --recipient ADDR  sent to this address
  --tag T           carrying this tag
${TIMES}
  --format F        csv (default) or json
  --output FILE     write here (created owner-only) instead of standard output; -o
  --page-size N     messages per request, 1 to 5000 (default 1000)
${REMOTE}`,
  keys: `usage: mailroute keys create --name NAME [--scopes SCOPE,...] [--tenant ID] [--config FILE]
       mailroute keys list [--tenant ID] [--config FILE]
       mailroute keys revoke KEY_ID [--config FILE]

manages API keys directly on the database (no server needed)

options:
  --name NAME       create: the key's name
  --scopes LIST     create: comma-separated send, read, admin, operator (default send; see README)
  --tenant ID       create: the key's tenant (default: default); list: only this tenant's keys
${CONFIG}`,
  senders: `usage: mailroute senders list [--tenant ID] [--config FILE]
       mailroute senders set TENANT [SENDER ...] [--config FILE]

the senders each tenant may use in from (domains or addresses), directly on the database;
set replaces the tenant's whole list, with no SENDER it removes it

options:
  --tenant ID       list: only this tenant's senders
${CONFIG}`,
  providers: `usage: mailroute providers [--window MINUTES] [options]
       mailroute providers enable|drain|disable|force-open NAME [--note TEXT] [options]

without an action: provider health through the API (scope read); with one: an operator
decision every process obeys

options:
  --window MINUTES  health over the last MINUTES, whole minutes from 1 to 10080 (default 15)
  --note TEXT       actions: why, shown with the state
${REMOTE}`,
  alerts: `usage: mailroute alerts [filters] [--limit N] [--json] [options]

alert history through the API, newest first: incidents, notices, summaries

options:
  --state S         firing or resolved
  --kind K          late_delivery, breaker_open, dead_messages or all_providers_failing
  --subject S       e.g. a provider's name
${TIMES}
  --limit N         incidents per page, 1 to 200 (default 20)
  --cursor C        the next page, as printed
  --json            machine-readable output
${REMOTE}`,
  config: `usage: mailroute config check [--config FILE | FILE]

validates a configuration file: "ok" and a summary, or every problem with its path (exit 2)

options:
${CONFIG}`,
};

/** `--help` or `-h` anywhere among a command's arguments (before a `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}
