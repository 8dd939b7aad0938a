import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect } from 'react';
import { connection } from './connection.js';
import { sessionEvents } from './session.js';
import { apiCodeOf, useTRPC } from './trpc.js';

/** How often a polled page asks again; a breaker that opens shows within this plus one answer. */
export const LIVE_MS = 1_500;

/**
 * Conditional polling, one channel per page: every `everyMs` the page's active queries are asked
 * again together, and httpBatchLink sends them as one request. Nothing is asked while the tab is
 * hidden; after a lost connection the next tick is the retry, so the page recovers by itself.
 */
export function useLive(everyMs = LIVE_MS): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      void queryClient.refetchQueries({ type: 'active', stale: true }, { cancelRefetch: false });
    }, everyMs);
    return () => clearInterval(timer);
  }, [everyMs, queryClient]);
}

/**
 * The overview's one live channel: the server's `live.overview` subscription (server-sent
 * events, resumed by EventSource after a drop). Each change it announces refreshes the page's
 * queries in one batched request; a dropped stream shows the banner until it is back.
 */
export function useLiveOverview(): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useSubscription(
    trpc.live.overview.subscriptionOptions(undefined, {
      onData: () => {
        connection.answered();
        void queryClient.invalidateQueries({ refetchType: 'active' });
      },
      onError: (error) => {
        if (apiCodeOf(error) === 'UNAUTHENTICATED') sessionEvents.unauthenticated();
      },
      onConnectionStateChange: (state) => {
        if (state.state === 'connecting' && state.error) connection.lost();
      },
    }),
  );
}
