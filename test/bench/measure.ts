import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
/** Small timing helpers shared by the benchmarks: they print numbers, they assert nothing. */

export interface Rate {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly nsPerOp: number;
}

/** Runs `op` sequentially `iterations` times per round; reports the median round. */
export async function measureSequential(name: string, op: () => Promise<unknown>, iterations: number, rounds = 5): Promise<Rate> {
  for (let i = 0; i < Math.min(iterations, 20_000); i += 1) await op();
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) await op();
    const elapsedNs = Number(process.hrtime.bigint() - started);
    perRound.push(elapsedNs / iterations);
  }
  perRound.sort((a, b) => a - b);
  const nsPerOp = perRound[Math.floor(perRound.length / 2)] ?? Number.NaN;
  return { name, nsPerOp, opsPerSecond: 1e9 / nsPerOp };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function printTable(title: string, rows: readonly Record<string, string | number>[]): void {
  console.log(`\n## ${title}`);
  console.table(rows);
}

export const fmt = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Linux: utime + stime of /proc/PID/stat, in clock ticks of 10 ms. */
export function cpuMicrosOf(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the child has exited. */
export async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
