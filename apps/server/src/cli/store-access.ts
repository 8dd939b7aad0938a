import { createStore, type MailStore } from '@mailroute/store';
import { readConfig, resolveConfigSource } from '../config/source.js';
import type { CliIo } from './io.js';

/** Opens the configured database for one command (`keys`, `senders`) and closes it after. */
export async function withStore<T>(configFlag: string | undefined, io: CliIo, work: (store: MailStore) => Promise<T>): Promise<T> {
  const { config } = await readConfig(resolveConfigSource(configFlag, io.env), io.env);
  const store = await createStore({ url: config.database.url, listen: false });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
