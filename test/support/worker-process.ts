import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailrouteConfigInput } from '@mailroute/server';

const repoRoot = new URL('../../', import.meta.url).pathname;
const cli = join(repoRoot, 'apps/server/src/cli.ts');

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves once the worker logged that it started. */
  readonly started: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly output: string[];
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export function writeConfig(directory: string, config: MailrouteConfigInput, name = 'mailroute.json'): string {
  const path = join(directory, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Runs `mailroute worker` from the TypeScript sources in a child process of its own. */
export function spawnWorker(configPath: string, logLevel = 'info'): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', cli, 'worker', '--config', configPath, '--log-level', logLevel],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  let markStarted: () => void = () => {};
  let markFailed: (error: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    markStarted = resolve;
    markFailed = reject;
  });
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (text.includes('"worker started"')) markStarted();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      markFailed(new Error(`worker exited (${code}) before it started:\n${output.join('')}`));
      resolve(code);
    }),
  );
  return {
    child,
    started,
    exited,
    output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
