import type { WorkerProcess } from './worker-process.js';

/** The worker's pino lines, parsed; lines that are not JSON (a crash trace) are skipped. */
export function logRecords(worker: WorkerProcess): Record<string, unknown>[] {
  return worker.output
    .join('')
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** The lease owner id the worker announced when it started: what the store records on its attempts. */
export function workerOwner(worker: WorkerProcess): string {
  const owner = logRecords(worker).find((record) => record.msg === 'worker started')?.owner;
  if (typeof owner !== 'string') throw new Error(`worker announced no owner:\n${worker.output.join('')}`);
  return owner;
}
