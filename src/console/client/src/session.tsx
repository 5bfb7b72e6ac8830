import { createContext, useContext } from 'react';
import type { User } from './types';

export const SessionContext = createContext<User | null>(null);

export function useUser(): User {
  const u = useContext(SessionContext);
  if (!u) throw new Error('useUser outside a signed-in page');
  return u;
}
/** Analysts and admins act on cases; viewers only read. The server enforces this too. */
export const canAct = (u: User) => u.role === 'analyst' || u.role === 'admin';
export const isAdmin = (u: User) => u.role === 'admin';
