import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.js';
import { connection } from './connection.js';
import { LangProvider } from './i18n.js';
import { SessionProvider, sessionEvents, useSession } from './session.js';
import { apiCodeOf, isConnectionError, TRPCProvider } from './trpc.js';
import './styles.css';

function settle(error: unknown): void {
  if (isConnectionError(error)) {
    connection.lost();
    return;
  }
  connection.answered();
  if (apiCodeOf(error) === 'UNAUTHENTICATED') sessionEvents.unauthenticated();
}

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: settle, onSuccess: () => connection.answered() }),
  mutationCache: new MutationCache({ onError: settle, onSuccess: () => connection.answered() }),
  defaultOptions: {
    // The API being unreachable is news to show (the banner), whatever the browser thinks of its network.
    mutations: { networkMode: 'always' },
    queries: {
      networkMode: 'always',
      retry: (failures, error) => isConnectionError(error) && failures < 2,
      staleTime: 1_000,
      refetchOnWindowFocus: false,
    },
  },
});

function WithApi() {
  const { client } = useSession();
  return (
    <TRPCProvider trpcClient={client} queryClient={queryClient}>
      <App />
    </TRPCProvider>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <LangProvider>
        <BrowserRouter basename="/dashboard">
          <SessionProvider>
            <WithApi />
          </SessionProvider>
        </BrowserRouter>
      </LangProvider>
    </QueryClientProvider>
  </StrictMode>,
);
