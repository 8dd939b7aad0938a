import { useSyncExternalStore } from 'react';

/**
 * Whether the API answered the last call: every query and mutation reports here, so one
 * banner covers the whole page, and the next answer clears it without a reload.
 */
let lost = false;
const listeners = new Set<() => void>();

function set(next: boolean): void {
  if (lost === next) return;
  lost = next;
  for (const listener of listeners) listener();
}

export const connection = {
  lost: () => set(true),
  answered: () => set(false),
};

export function useConnectionLost(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => lost,
  );
}
