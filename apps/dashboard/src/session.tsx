import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { apiCodeOf, type Client, createClient, type Outputs } from './trpc.js';

export type Scope = 'send' | 'read' | 'admin' | 'operator';
export type Who = Outputs['session']['whoami'];

export type SessionState =
  | { readonly status: 'checking' }
  | { readonly status: 'signed-out'; readonly reason?: 'wrong-key' | 'signed-out' | 'no-read' }
  | { readonly status: 'signed-in'; readonly who: Who }
  | { readonly status: 'expired' };

interface SessionContext {
  readonly state: SessionState;
  readonly client: Client;
  signIn(key: string): Promise<SessionState>;
  signOut(): Promise<void>;
  can(scope: Scope): boolean;
}

const Context = createContext<SessionContext | undefined>(undefined);

let onUnauthenticated = () => {};
/** Raised by the query cache when any answer says UNAUTHENTICATED. */
export const sessionEvents = { unauthenticated: () => onUnauthenticated() };

/**
 * What each scope implies, exactly as the API's table (packages/api/src/scopes.ts): `admin` acts
 * inside its tenant and implies `send` and `read`; `operator` acts on the whole service and
 * implies `admin`. A check that differed would show enabled buttons the server then refuses.
 */
const implied: Readonly<Record<Scope, readonly Scope[]>> = {
  send: ['send'],
  read: ['read'],
  admin: ['admin', 'send', 'read'],
  operator: ['operator', 'admin', 'send', 'read'],
};

export function allows(who: Pick<Who, 'scopes' | 'operator'>, needed: Scope): boolean {
  if (needed === 'operator') return who.operator;
  return who.scopes.some((scope) => implied[scope].includes(needed));
}

/**
 * The session lives in an HttpOnly cookie the server set when the key was pasted; the key itself
 * is sent once and kept nowhere. A reload asks the server who we are.
 */
export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const queryClient = useQueryClient();
  const client = useMemo(() => createClient(), []);
  const [state, setState] = useState<SessionState>({ status: 'checking' });

  useEffect(() => {
    client.session.whoami.query().then(
      (who) => setState({ status: 'signed-in', who }),
      () => setState({ status: 'signed-out' }),
    );
  }, [client]);

  const signIn = useCallback(
    async (secret: string) => {
      let next: SessionState;
      try {
        const who = await client.session.signIn.mutate({ key: secret.trim() });
        next = allows(who, 'read') ? { status: 'signed-in', who } : { status: 'signed-out', reason: 'no-read' };
        if (next.status === 'signed-out') await client.session.signOut.mutate();
      } catch (error) {
        if (apiCodeOf(error) !== 'UNAUTHENTICATED' && apiCodeOf(error) !== 'INVALID_INPUT') throw error;
        next = { status: 'signed-out', reason: 'wrong-key' };
      }
      queryClient.clear();
      setState(next);
      return next;
    },
    [client, queryClient],
  );
  const signOut = useCallback(async () => {
    await client.session.signOut.mutate().catch(() => undefined);
    queryClient.clear();
    setState({ status: 'signed-out', reason: 'signed-out' });
  }, [client, queryClient]);
  const expire = useCallback(() => {
    setState((current) => (current.status === 'signed-in' ? { status: 'expired' } : current));
  }, []);
  onUnauthenticated = expire;

  const value = useMemo<SessionContext>(
    () => ({
      state,
      client,
      signIn,
      signOut,
      can: (scope) => state.status === 'signed-in' && allows(state.who, scope),
    }),
    [state, client, signIn, signOut],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): SessionContext {
  const context = useContext(Context);
  if (!context) throw new Error('useSession outside SessionProvider');
  return context;
}
