import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MailrouteConfigInput } from '@mailroute/server';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const sourceCli = join(repoRoot, 'apps/server/src/cli.ts');
export const builtCli = join(repoRoot, 'apps/server/dist/cli.js');
const tsx = import.meta.resolve('tsx');

/** One pino line as written by the server. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote (stdout and stderr), as received. */
  readonly output: string[];
  /** The API address, once it logged "api listening". */
  readonly url: Promise<string>;
  /** Resolves once the worker logged that it started. */
  readonly workerStarted: Promise<void>;
  readonly exited: Promise<number | null>;
  logs(): LogLine[];
  /** Resolves with the first log line (from now or earlier) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** The CLI's arguments, e.g. `['serve', '--config', path]`. */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Run the built `dist/cli.js` (what `npm start` runs) instead of the TypeScript sources. */
  readonly built?: boolean;
  /** Options for node itself, e.g. the heap size `npm start` sets. */
  readonly nodeOptions?: readonly string[];
}

/** Runs the `mailroute` CLI in a child process of its own, from the sources unless `built`. */
export function spawnMailroute({ args, cwd, env = {}, built = false, nodeOptions = [] }: SpawnOptions): ServerProcess {
  const nodeArgs = [...nodeOptions, ...(built ? [builtCli, ...args] : ['--conditions=source', '--import', tsx, sourceCli, ...args])];
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let pending = '';
  const lines: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    pending += text;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const raw of complete) {
      if (!raw.startsWith('{')) continue;
      try {
        const line = JSON.parse(raw) as LogLine;
        lines.push(line);
        for (const watcher of watchers) watcher(line);
      } catch {
        // Not a log line (the first-key banner, a stack trace): kept in `output` only.
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  function waitForLog(match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const watcher = (line: LogLine) => {
        if (!match(line)) return;
        cleanup();
        resolve(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${output.join('').slice(-4000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        watchers.delete(watcher);
      };
      watchers.add(watcher);
      void exited.then(() => {
        if (!watchers.has(watcher)) return;
        cleanup();
        reject(new Error(`process exited before the log line; output:\n${output.join('').slice(-4000)}`));
      });
    });
  }

  const url = waitForLog((line) => line.msg === 'api listening').then((line) => String(line.url));
  const workerStarted = waitForLog((line) => line.msg === 'worker started').then(() => undefined);
  url.catch(() => {});
  workerStarted.catch(() => {});
  return {
    child,
    output,
    url,
    workerStarted,
    exited,
    logs: () => [...lines],
    waitForLog,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A temporary working directory (database, captured mail, configuration) removed by `remove()`. */
export function workDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `mailroute-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeConfig(path: string, config: MailrouteConfigInput): string {
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** A valid first admin key, handed to the server through MAILROUTE_ADMIN_KEY. */
export function adminKey(): string {
  return `mr_e2e${Array.from({ length: 40 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('')}`;
}

/** Runs one CLI command to completion (from the sources unless `built`); answers its exit code and output. */
export function runMailroute(
  args: readonly string[],
  { cwd, env = {}, built = false }: { readonly cwd: string; readonly env?: Readonly<Record<string, string>>; readonly built?: boolean },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const nodeArgs = built ? [builtCli, ...args] : ['--conditions=source', '--import', tsx, sourceCli, ...args];
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
