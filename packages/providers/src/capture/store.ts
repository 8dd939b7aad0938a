import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CapturedMessage, CaptureRecord } from './converter.js';

/** Where captured mail is kept: a bounded list in memory, or files in a folder. */
export interface CaptureStore {
  put(record: CaptureRecord, raw: Buffer): Promise<void>;
  /** Oldest first. */
  list(): Promise<CapturedMessage[]>;
  clear(): Promise<void>;
  /** Throws when the store cannot take mail. */
  check(): Promise<void>;
}

export function memoryStore(maxMessages: number): CaptureStore {
  const messages: CapturedMessage[] = [];
  return {
    async put(record, raw) {
      messages.push({ ...record, raw });
      if (messages.length > maxMessages) messages.splice(0, messages.length - maxMessages);
    },
    list: async () => [...messages],
    async clear() {
      messages.length = 0;
    },
    check: async () => {},
  };
}

const CAPTURE_FILE = /^\d{8}T\d{9}Z-\d{6}-capture-[\w-]+\.(eml|json)$/;

/**
 * One `<time>-<sequence>-<id>.eml` and `.json` per message; the names sort by capture time.
 * The `.json` is written last and atomically, so a listed message always has its `.eml`.
 * Folder and files are owner-only: captured mail is real people's mail.
 */
export function folderStore(directory: string): CaptureStore {
  let sequence = 0;
  return {
    async put(record, raw) {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      sequence = (sequence + 1) % 1_000_000;
      const stamp = record.capturedAt.replace(/[-:.]/g, '');
      const base = join(directory, `${stamp}-${String(sequence).padStart(6, '0')}-${record.providerMessageId}`);
      await writeFile(`${base}.eml`, raw, { mode: 0o600 });
      await writeFile(`${base}.json.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
      await rename(`${base}.json.tmp`, `${base}.json`);
    },
    async list() {
      const names = (await filesIn(directory)).filter((name) => name.endsWith('.json')).sort();
      return Promise.all(
        names.map(async (name) => {
          const path = join(directory, name);
          const record = JSON.parse(await readFile(path, 'utf8')) as CaptureRecord;
          return { ...record, raw: await readFile(path.replace(/\.json$/, '.eml')) };
        }),
      );
    },
    async clear() {
      await Promise.all((await filesIn(directory)).map((name) => rm(join(directory, name), { force: true })));
    },
    async check() {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await access(directory, constants.W_OK);
    },
  };
}

async function filesIn(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).filter((name) => CAPTURE_FILE.test(name));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
}
