import { resolve } from 'node:path';
import { readConfig, resolveConfigSource } from '../config/source.js';
import { createLogger } from '../logging.js';
import { watchConfigFile } from '../runtime/config-watch.js';
import { type Role, roles, type Service, startService } from '../runtime/service.js';
import { type Command, EXIT_OK, parseFlags, UsageError } from './io.js';

/** Where a non-interactive first start writes the drawn admin key, relative to the working directory. */
export const FIRST_ADMIN_KEY_FILE = 'data/admin-key.txt';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export function serveCommand(fixedRole?: Role): Command {
  return async (args, io) => {
    const { values } = parseFlags(args, {
      config: { type: 'string' },
      role: { type: 'string' },
      'log-level': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
    });
    if (fixedRole && values.role !== undefined) throw new UsageError('--role is not an option of this command');
    const role = (values.role ?? fixedRole ?? 'all') as Role;
    if (!roles.includes(role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
    const level = values['log-level'] ?? io.env.MAILROUTE_LOG_LEVEL ?? 'info';
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);

    const logger = createLogger(level, io.stdout);
    const source = resolveConfigSource(values.config, io.env);
    const { config, fromFile } = await readConfig(source, io.env);
    if (fromFile) logger.info({ file: source.path }, 'configuration loaded');
    else logger.info({ looked: source.path }, `no configuration file: embedded defaults (database ${config.database.url})`);

    let service: Service | undefined;
    let reloadWanted = false;
    const reload = () => {
      // reload() reports its own failures; this catches what could escape it (a failing logger).
      if (service) service.reload().catch((error: unknown) => logger.error({ err: error }, 'configuration reload failed'));
      else reloadWanted = true;
    };
    // Installed before the (possibly long) start: SIGHUP's default action would end the process,
    // and a SIGTERM during the start would end it without the graceful stop.
    process.on('SIGHUP', reload);
    let onSignal: (signal: string) => void = () => {};
    const signalled = new Promise<string>((resolve) => {
      onSignal = resolve;
    });
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    const stopWatching = watchConfigFile(source.path, reload, (error) =>
      logger.warn({ err: error }, 'cannot watch the configuration file; SIGHUP still reloads it'),
    );
    try {
      service = await startService({
        role,
        config,
        source,
        fromFile,
        env: io.env,
        logger,
        adminKey: io.env.MAILROUTE_ADMIN_KEY || undefined,
        print: (text) => io.stdout.write(text),
        // Not a terminal: whatever reads standard output (journald, a container runtime, a log
        // shipper) would keep the key, so it goes to a file only the service's user can read.
        adminKeyFile: io.stdout.isTTY ? undefined : resolve(FIRST_ADMIN_KEY_FILE),
        listen: listenFlags(values.host, values.port),
      });
    } catch (error) {
      stopWatching();
      process.off('SIGHUP', reload);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      throw error;
    }
    if (reloadWanted) reload();

    const signal = await signalled;
    logger.info({ signal }, 'stopping: no new requests; finishing requests and sends in flight');
    const force = (again: string) => {
      logger.warn({ signal: again }, 'second signal: exiting without waiting (leases expire and other workers resend)');
      process.exit(1);
    };
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    stopWatching();
    process.off('SIGHUP', reload);
    await service.stop();
    logger.info('stopped');
    return EXIT_OK;
  };
}

/** `--host` / `--port` win over the file (a second instance, a test on a free port). */
function listenFlags(host: string | undefined, port: string | undefined): { host?: string; port?: number } {
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65_535)) {
    throw new UsageError('--port takes a number from 0 to 65535 (0 picks a free port)');
  }
  return { ...(host ? { host } : {}), ...(port !== undefined ? { port: Number(port) } : {}) };
}
