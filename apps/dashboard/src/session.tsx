import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from 'react';
import { apiCodeOf, type Client, createClient } from './trpc.js';

export type Scope = 'send' | 'read' | 'admin' | 'operator';

export interface Who {
  readonly name?: string;
  readonly prefix?: string;
  readonly scopes: readonly Scope[];
}

export type SessionState =
  | { readonly status: 'signed-out'; readonly reason?: 'wrong-key' | 'signed-out' | 'no-read' }
  | { readonly status: 'signed-in'; readonly who: Who }
  | { readonly status: 'expired' };

interface SessionContext {
  readonly state: SessionState;
  readonly client: Client;
  signIn(key: string): Promise<SessionState>;
  signOut(): void;
  /** An answer said the session is gone (revoked key, expired session). */
  expire(): void;
  can(scope: Scope): boolean;
}

const Context = createContext<SessionContext | undefined>(undefined);

let onUnauthenticated = () => {};
/** Raised by the query cache when any answer says UNAUTHENTICATED. */
export const sessionEvents = { unauthenticated: () => onUnauthenticated() };

/** `admin` implies every other scope, as the API does. */
export function allows(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}

/**
 * What the key may do, asked of the API itself: reading (stats.overview), administering
 * (keys.list), sending (cancelling a message that does not exist answers NOT_FOUND, not FORBIDDEN).
 */
async function probe(client: Client): Promise<SessionState> {
  try {
    await client.stats.overview.query();
  } catch (error) {
    const code = apiCodeOf(error);
    if (code === 'UNAUTHENTICATED') return { status: 'signed-out', reason: 'wrong-key' };
    if (code === 'FORBIDDEN') return { status: 'signed-out', reason: 'no-read' };
    throw error;
  }
  const scopes: Scope[] = ['read'];
  const admin = await client.keys.list.query().then(
    () => true,
    () => false,
  );
  if (admin) return { status: 'signed-in', who: { scopes: ['admin', 'read', 'send'] } };
  const send = await client.mail.cancel.mutate({ id: 'probe-scope-send' }).then(
    () => true,
    (error: unknown) => apiCodeOf(error) !== 'FORBIDDEN',
  );
  if (send) scopes.push('send');
  return { status: 'signed-in', who: { scopes } };
}

export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const queryClient = useQueryClient();
  const key = useRef<string | undefined>(undefined);
  const client = useMemo(() => createClient(() => key.current), []);
  const [state, setState] = useState<SessionState>({ status: 'signed-out' });

  const signIn = useCallback(
    async (secret: string) => {
      key.current = secret.trim();
      const next = await probe(client).catch((error: unknown) => {
        key.current = undefined;
        throw error;
      });
      if (next.status !== 'signed-in') key.current = undefined;
      queryClient.clear();
      setState(next);
      return next;
    },
    [client, queryClient],
  );
  const signOut = useCallback(() => {
    key.current = undefined;
    queryClient.clear();
    setState({ status: 'signed-out', reason: 'signed-out' });
  }, [queryClient]);
  const expire = useCallback(() => {
    key.current = undefined;
    setState((current) => (current.status === 'signed-in' ? { status: 'expired' } : current));
  }, []);

  onUnauthenticated = expire;

  const value = useMemo<SessionContext>(
    () => ({
      state,
      client,
      signIn,
      signOut,
      expire,
      can: (scope) => state.status === 'signed-in' && allows(state.who.scopes, scope),
    }),
    [state, client, signIn, signOut, expire],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): SessionContext {
  const context = useContext(Context);
  if (!context) throw new Error('useSession outside SessionProvider');
  return context;
}
