import { readConfig, resolveConfigSource } from '../config/source.js';
import { type Command, EXIT_OK, parseFlags, println, UsageError } from './io.js';

/** `mailroute config check [--config FILE]`: "ok" or every problem with its path; exit 2 when invalid. */
export const configCheckCommand: Command = async (args, io) => {
  const { values, positionals } = parseFlags(args, { config: { type: 'string' } }, true);
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const source = resolveConfigSource(values.config ?? positionals[0], io.env);
  const { config, fromFile } = await readConfig(source, io.env);
  const providers = config.providers.map((provider) => `${provider.name} (${provider.type})`).join(', ') || 'none: capture fallback';
  println(io.stdout, fromFile ? `ok: ${source.path}` : `ok: no file at ${source.path}; embedded defaults`);
  println(io.stdout, `  database: ${config.database.url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}`);
  println(io.stdout, `  providers: ${providers}`);
  println(io.stdout, `  routing: ${config.routing.strategy}, ambiguous outcomes: ${config.routing.ambiguousPolicy}`);
  return EXIT_OK;
};
