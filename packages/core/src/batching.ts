/** An item that could not be written, even on its own, with the error of its last try. */
export interface WriteFailure<T> {
  readonly item: T;
  readonly error: unknown;
}

/**
 * The one way batched writers (the worker's outcomes, enqueue's group commit) split a batch
 * the database refused: `write` takes the whole batch in one transaction; when it fails, each
 * half is written on its own, down to single items, so one item the database refuses holds
 * back only itself (about 2·log2(n) more transactions for one bad item in n). Returns the
 * items that failed alone.
 *
 * When the database refuses everything (it is down, locked, out of connections), splitting
 * would only multiply failing calls: after `2·log2(n) + 2` failures in a row with no write
 * succeeding, the items not yet tried fail with the last error, untried.
 */
export async function writeSplitting<T>(items: readonly T[], write: (batch: readonly T[]) => Promise<void>): Promise<WriteFailure<T>[]> {
  const failures: WriteFailure<T>[] = [];
  if (items.length === 0) return failures;
  const giveUpAfter = 2 * Math.ceil(Math.log2(items.length)) + 2;
  let failingInARow = 0;
  let lastError: unknown;

  async function attempt(batch: readonly T[]): Promise<void> {
    if (failingInARow >= giveUpAfter) {
      for (const item of batch) failures.push({ item, error: lastError });
      return;
    }
    try {
      await write(batch);
      failingInARow = 0;
      return;
    } catch (error) {
      failingInARow += 1;
      lastError = error;
      if (batch.length === 1) {
        failures.push({ item: batch[0] as T, error });
        return;
      }
    }
    const middle = Math.ceil(batch.length / 2);
    await attempt(batch.slice(0, middle));
    await attempt(batch.slice(middle));
  }

  await attempt(items);
  return failures;
}
