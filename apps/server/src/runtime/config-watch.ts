import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` once a burst of changes to `path` has settled. The folder is watched, not
 * the file: editors save by writing a new file and renaming it over the old one, which
 * would end a watch on the file itself; and a file that does not exist yet can appear.
 */
export function watchConfigFile(path: string, onChange: () => void, onError: (error: unknown) => void, debounceMs = 300): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
  } catch (error) {
    onError(error);
    return () => {};
  }
  watcher.on('error', onError);
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
