import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MailrouteConfigInput } from '@mailroute/server';

/** `mailroute worker` from the BUILT server (apps/server/dist/cli.js), as an operator runs it. */

const cli = new URL('../../apps/server/dist/cli.js', import.meta.url).pathname;

export interface BuiltWorker {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every line it wrote (pino JSON, and anything a preload prints), stdout and stderr together. */
  readonly lines: string[];
  /** Resolves once it logged "worker started". */
  readonly started: Promise<void>;
  /** SIGTERM (the worker finishes what is in flight), SIGKILL if it takes longer than `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function writeWorkerConfig(directory: string, config: MailrouteConfigInput): string {
  const file = path.join(directory, 'mailroute.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export function spawnBuiltWorker(configPath: string, nodeArgs: readonly string[] = []): BuiltWorker {
  const child = spawn(process.execPath, [...nodeArgs, cli, 'worker', '--config', configPath, '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start the worker process');
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<void>((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        lines.push(line);
        if (line.includes('"worker started"')) resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`the worker exited before it started:\n${lines.join('\n')}`)));
  });
  return {
    child,
    pid: child.pid,
    lines,
    started,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
