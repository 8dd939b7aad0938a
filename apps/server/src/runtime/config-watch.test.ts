import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { watchConfigFile } from './config-watch.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailroute-watch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('one call per burst of writes, renames over the file count, other files do not', async () => {
  const path = join(dir, 'mailroute.yaml');
  writeFileSync(path, 'a: 1');
  let calls = 0;
  const stop = watchConfigFile(
    path,
    () => (calls += 1),
    (error) => {
      throw error;
    },
    100,
  );
  for (let i = 0; i < 5; i += 1) writeFileSync(path, `a: ${i}`);
  await sleep(300);
  expect(calls).toBe(1);

  writeFileSync(join(dir, 'mailroute.yaml.tmp'), 'a: 9');
  renameSync(join(dir, 'mailroute.yaml.tmp'), path);
  await sleep(300);
  expect(calls).toBe(2);

  writeFileSync(join(dir, 'other.yaml'), 'b: 1');
  await sleep(300);
  expect(calls).toBe(2);
  stop();
  writeFileSync(path, 'a: 10');
  await sleep(300);
  expect(calls).toBe(2);
});
