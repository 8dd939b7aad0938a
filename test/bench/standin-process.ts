import { type ChildProcess, fork } from 'node:child_process';

/**
 * The SendGrid stand-in in a process of its own, so a benchmark's CPU figures are the
 * worker's alone and the stand-in does not compete for the worker's event loop.
 */

export interface StandInChildOptions {
  readonly apiKey: string;
  readonly latencyMs: number;
}

export type ParentRequest = { readonly type: 'usage'; readonly id: number } | { readonly type: 'close' };

export type ChildReply =
  | { readonly type: 'ready'; readonly url: string }
  | {
      readonly type: 'usage';
      readonly id: number;
      readonly cpu: NodeJS.CpuUsage;
      readonly requests: number;
      readonly accepted: number;
    };

export interface StandInUsage {
  /** The child's CPU time so far, in microseconds (user + system). */
  readonly cpuMicros: number;
  readonly requests: number;
  readonly accepted: number;
}

export interface StandInProcess {
  readonly url: string;
  readonly apiKey: string;
  usage(): Promise<StandInUsage>;
  close(): Promise<void>;
}

export async function startStandInProcess(options: StandInChildOptions): Promise<StandInProcess> {
  const child: ChildProcess = fork(new URL('./standin-child.ts', import.meta.url).pathname, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the stand-in process exited (${code}) before it listened`)));
    child.on('message', (reply: ChildReply) => {
      if (reply.type === 'ready') resolve(reply.url);
    });
  });
  let nextId = 0;
  return {
    url,
    apiKey: options.apiKey,
    usage() {
      nextId += 1;
      const id = nextId;
      return new Promise((resolve) => {
        const listener = (reply: ChildReply) => {
          if (reply.type !== 'usage' || reply.id !== id) return;
          child.off('message', listener);
          resolve({ cpuMicros: reply.cpu.user + reply.cpu.system, requests: reply.requests, accepted: reply.accepted });
        };
        child.on('message', listener);
        child.send({ type: 'usage', id } satisfies ParentRequest);
      });
    },
    async close() {
      if (child.connected) child.send({ type: 'close' } satisfies ParentRequest);
      await exited;
    },
  };
}
