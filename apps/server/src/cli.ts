#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createStore, migrateDatabase } from '@mailroute/store';
import { loadConfigFile } from './config/load.js';
import { createLogger, logRouterEvents } from './logging.js';
import { startWorker } from './worker/worker.js';

const USAGE = `usage: mailroute <command> [--config FILE]

commands:
  worker    claim queued mail and send it through the configured providers
  migrate   apply pending database migrations and exit

options:
  --config FILE     configuration file (YAML or JSON); default: MAILROUTE_CONFIG or ./mailroute.yaml
  --log-level LVL   trace, debug, info, warn, error (default info)`;

async function main(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { config: { type: 'string' }, 'log-level': { type: 'string', default: 'info' }, help: { type: 'boolean' } },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.error(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const logger = createLogger(values['log-level'] ?? 'info');
  const configPath = values.config ?? process.env.MAILROUTE_CONFIG ?? 'mailroute.yaml';
  const config = await loadConfigFile(configPath, process.env);

  switch (command) {
    case 'migrate': {
      const result = await migrateDatabase({ url: config.database.url });
      logger.info({ result }, 'migrations applied');
      return 0;
    }
    case 'worker': {
      const store = await createStore({ url: config.database.url, autoMigrate: true });
      const worker = await startWorker({
        store,
        config,
        onError: (error, during) => logger.error({ err: error, during }, 'worker storage error'),
      });
      logRouterEvents(worker.router(), logger);
      logger.info({ owner: worker.owner, providers: config.providers.map((p) => p.name) }, 'worker started');
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
          logger.info({ signal }, 'stopping: finishing sends in flight');
          resolve();
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
      await worker.stop();
      await store.close();
      logger.info('stopped');
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
