import { createContext, useContext } from 'react';
import type { Role, Session, User } from './types';

export interface AuthState {
  session: Session;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('AuthContext missing');
  return ctx;
}

export function useUser(): User {
  const user = useAuth().session.user;
  if (!user) throw new Error('not signed in');
  return user;
}

/** Same capabilities as the API's roles: admin everything, editor writes experiments, viewer reads. */
export const can = {
  write: (role: Role) => role === 'admin' || role === 'editor',
  audit: (role: Role) => role === 'admin' || role === 'editor',
  admin: (role: Role) => role === 'admin',
};
