import { migrateDatabase } from '@mailroute/store';
import { readConfig, resolveConfigSource } from '../config/source.js';
import { type Command, EXIT_OK, parseFlags, println } from './io.js';

/** `mailroute migrate`: applies pending migrations (once per deploy on PostgreSQL). */
export const migrateCommand: Command = async (args, io) => {
  const { values } = parseFlags(args, { config: { type: 'string' } });
  const { config } = await readConfig(resolveConfigSource(values.config, io.env), io.env);
  const { applied } = await migrateDatabase({ url: config.database.url });
  println(io.stdout, applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
  return EXIT_OK;
};
