/**
 * Sign-in: paste an end-user token or an admin key; an operator (open server or admin
 * key) then picks the user whose conversations to open, or creates one.
 */
import { type FormEvent, useEffect, useState } from "react";
import { ConvoApiError, clientFor, describeError, type User } from "../api";
import { type Session, tokenSubject, userName, useSession } from "../session";

type Probe = { state: "checking" } | { state: "open" } | { state: "closed" } | { state: "error"; message: string };

export function SignIn() {
  const { session, signIn, signOut } = useSession();
  const [probe, setProbe] = useState<Probe>({ state: "checking" });
  const [operator, setOperator] = useState<Session | null>(session && session.mode !== "user" ? session : null);

  useEffect(() => {
    if (operator) return;
    const abort = new AbortController();
    // An open server answers the admin-only user list without credentials.
    clientFor(null)
      .users.list({ limit: 1 }, { signal: abort.signal })
      .then(
        () => setProbe({ state: "open" }),
        (error) => {
          if (abort.signal.aborted) return;
          if (error instanceof ConvoApiError && error.status === 401) setProbe({ state: "closed" });
          else setProbe({ state: "error", message: describeError(error) });
        },
      );
    return () => abort.abort();
  }, [operator]);

  if (operator) {
    return (
      <UserPicker
        operator={operator}
        onPick={(user) => signIn({ ...operator, user })}
        onBack={() => {
          signOut();
          setOperator(null);
        }}
      />
    );
  }
  return (
    <main className="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to Convo</h1>
      {probe.state === "checking" && <p aria-live="polite">Checking the server…</p>}
      {probe.state === "error" && (
        <p role="alert" className="error">
          {probe.message}
        </p>
      )}
      {probe.state === "open" && (
        <section className="card">
          <p>This server is open (no key configured, loopback only): pick a user to continue.</p>
          <button type="button" className="primary" onClick={() => setOperator({ mode: "open", user: null })}>
            Choose a user
          </button>
        </section>
      )}
      <CredentialForm onSignedIn={(next) => (next.user ? signIn(next) : setOperator(next))} />
    </main>
  );
}

function CredentialForm({ onSignedIn }: { onSignedIn(session: Session): void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const credential = value.trim();
    if (!credential) return setError("Paste a user token or an admin key");
    setBusy(true);
    setError(null);
    try {
      if (credential.startsWith("convo_sk_")) {
        await clientFor(credential).users.list({ limit: 1 });
        onSignedIn({ mode: "admin", credential, user: null });
      } else {
        const sub = tokenSubject(credential);
        if (!sub) throw new Error("This is neither an admin key (convo_sk_…) nor a user token (a JWT)");
        const user = await clientFor(credential).users.get(sub);
        onSignedIn({ mode: "user", credential, user });
      }
    } catch (caught) {
      // The credential being checked was refused: its message, not "sign in again".
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-describedby={error ? "credential-error" : undefined}>
      <label htmlFor="credential">User token or admin key</label>
      <input
        id="credential"
        type="password"
        autoComplete="off"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error ? true : undefined}
      />
      {error && (
        <p id="credential-error" role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

function UserPicker({ operator, onPick, onBack }: { operator: Session; onPick(user: User): void; onBack(): void }) {
  const [users, setUsers] = useState<User[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [name, setName] = useState("");

  async function load(after: string | null) {
    setLoading(true);
    try {
      const page = await clientFor(operator.credential ?? null).users.list({ limit: 50, cursor: after ?? undefined });
      setUsers((prev) => (after ? [...prev, ...page.users] : page.users));
      setCursor(page.nextCursor);
      setHasMore(page.hasMore);
      setError(null);
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setLoading(false);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page, once per operator
  useEffect(() => {
    void load(null);
  }, [operator]);

  async function create(event: FormEvent) {
    event.preventDefault();
    try {
      const user = await clientFor(operator.credential ?? null).users.create({ displayName: name.trim() || null });
      onPick(user);
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <main className="signin" aria-labelledby="picker-title">
      <h1 id="picker-title">Choose a user</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ul className="user-list" aria-label="Users">
        {users.map((user) => (
          <li key={user.id}>
            <button type="button" onClick={() => onPick(user)}>
              <span className="user-name">{userName(user)}</span>
              {user.externalId && user.displayName && <span className="muted"> {user.externalId}</span>}
            </button>
          </li>
        ))}
      </ul>
      {!loading && users.length === 0 && <p>No users yet: create one below.</p>}
      {hasMore && (
        <button type="button" onClick={() => load(cursor)} disabled={loading}>
          More users
        </button>
      )}
      <form className="card row" onSubmit={create}>
        <label htmlFor="new-user">New user's name</label>
        <input id="new-user" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        <button type="submit">Create and open</button>
      </form>
      <button type="button" className="link" onClick={onBack}>
        Use another credential
      </button>
    </main>
  );
}
