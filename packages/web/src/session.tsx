/**
 * Who is signed in: an end user (with their token), or an operator — on an open
 * loopback server or with an admin key — acting as a user picked from the list.
 * Kept in localStorage so a reload stays signed in.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { setCredential, type User } from "./api";

export interface Session {
  /** `open`: no credential needed; `admin`: an admin key; `user`: an end-user token. */
  mode: "open" | "admin" | "user";
  credential?: string;
  /** The user whose conversations are shown (null: an operator who has not picked one). */
  user: User | null;
}

interface SessionContextValue {
  session: Session | null;
  signIn(session: Session): void;
  signOut(): void;
}

const KEY = "convo.session";
const SessionContext = createContext<SessionContextValue | null>(null);

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    const session = raw ? (JSON.parse(raw) as Session) : null;
    setCredential(session?.credential);
    return session;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(load);
  const signIn = useCallback((next: Session) => {
    setCredential(next.credential);
    localStorage.setItem(KEY, JSON.stringify(next));
    setSession(next);
  }, []);
  const signOut = useCallback(() => {
    setCredential(undefined);
    localStorage.removeItem(KEY);
    setSession(null);
  }, []);
  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/** Operators (open server or admin key) may pick any user and read analytics. */
export const isOperator = (session: Session | null) => session?.mode === "open" || session?.mode === "admin";

/** The name to show for a user. */
export const userName = (user: User) => user.displayName || user.externalId || user.id.slice(0, 8);

/** The `sub` of a JWT (not verified here: the server verifies every call). */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof json.sub === "string" ? json.sub : undefined;
  } catch {
    return undefined;
  }
}
