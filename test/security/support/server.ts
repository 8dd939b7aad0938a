import { join } from 'node:path';
import type { MailrouteConfigInput } from '@mailroute/server';
import { adminKey, runMailroute, type ServerProcess, spawnMailroute, workDir, writeConfig } from '../../e2e/support/server-process.js';

/** A built server (what `npm start` runs) on a free port, with its own data directory. */
export interface SecurityServer {
  readonly process: ServerProcess;
  /** The API address, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The first admin key, handed over through MAILROUTE_ADMIN_KEY. */
  readonly adminKey: string;
  /** The temporary working directory: configuration, database, captured mail. */
  readonly dir: string;
  readonly configPath: string;
  /** Stops the process and removes its directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Names the temporary directory, to tell runs apart. */
  readonly name: string;
  /** Merged over a SQLite database in the temporary directory and `server.port: 0`. */
  readonly config?: MailrouteConfigInput;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `apps/server/dist/cli.js serve` (rebuild the server first) so the probes hit exactly
 * what an operator runs. Port 0: the server picks a free port and logs it.
 */
export async function startBuiltServer({ name, config = {}, env = {} }: StartOptions): Promise<SecurityServer> {
  const dir = workDir(`security-${name}`);
  const key = adminKey();
  const configPath = writeConfig(join(dir.path, 'mailroute.json'), {
    database: { url: `file:${join(dir.path, 'mailroute.db')}` },
    ...config,
    server: { ...config.server, port: 0 },
  });
  const process = spawnMailroute({
    args: ['serve', '--config', configPath],
    cwd: dir.path,
    env: { MAILROUTE_ADMIN_KEY: key, ...env },
    built: true,
  });
  const stop = async () => {
    await process.kill('SIGTERM');
    dir.remove();
  };
  try {
    const url = await process.url;
    return { process, url, adminKey: key, dir: dir.path, configPath, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `mailroute keys create` (built CLI) against the server's database, beside the running server; answers the new key. */
export async function createKey(server: SecurityServer, name: string, scopes: string, extraArgs: readonly string[] = []): Promise<string> {
  const result = await runMailroute(['keys', 'create', '--name', name, '--scopes', scopes, '--config', server.configPath, ...extraArgs], {
    cwd: server.dir,
    built: true,
  });
  if (result.code !== 0) throw new Error(`keys create exited ${result.code}: ${result.stderr}`);
  const key = /\n {2}(mr_\S+)/.exec(result.stdout)?.[1];
  if (!key) throw new Error(`no key in: ${result.stdout}`);
  return key;
}
