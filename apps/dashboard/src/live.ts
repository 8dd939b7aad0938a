import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

/** How often a live page asks again; a breaker that opens shows within this plus one answer. */
export const LIVE_MS = 1_500;

/**
 * One channel per page: every LIVE_MS the page's active queries are asked again together, and
 * httpBatchLink sends them as one request. Nothing is asked while the tab is hidden; after a lost
 * connection the next tick is the retry, so the page recovers by itself.
 */
export function useLive(enabled = true): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      void queryClient.refetchQueries({ type: 'active', stale: true }, { cancelRefetch: false });
    }, LIVE_MS);
    return () => clearInterval(timer);
  }, [enabled, queryClient]);
}
