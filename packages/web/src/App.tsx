/**
 * The app's frame: sign-in until someone is signed in; then the header, the
 * conversation sidebar and the current screen (a conversation, or analytics for
 * operators). Analytics and its chart library load only when opened.
 */
import { lazy, Suspense, useEffect, useState } from "react";
import { Link, Redirect, Route, Switch, useRoute } from "wouter";
import { ChatPage } from "./chat/Chat";
import { ErrorBoundary } from "./ErrorBoundary";
import { MenuIcon } from "./icons";
import { isOperator, userName, useSession } from "./session";
import { ConversationsProvider } from "./sidebar/conversations";
import { Sidebar } from "./sidebar/Sidebar";
import { SignIn } from "./signin/SignIn";
import { ThemeToggle } from "./theme";

const Analytics = lazy(() => import("./analytics/Analytics"));

export function App() {
  const { session } = useSession();
  if (!session?.user) {
    return (
      <ErrorBoundary where="sign-in">
        <Header />
        <SignIn />
      </ErrorBoundary>
    );
  }
  return (
    <ConversationsProvider key={session.user.id} userId={session.user.id}>
      <Shell userId={session.user.id} />
    </ConversationsProvider>
  );
}

function Header({ onMenu, drawerOpen }: { onMenu?(): void; drawerOpen?: boolean }) {
  const { session, signIn, signOut } = useSession();
  return (
    <header className="topbar">
      {onMenu && (
        <button
          type="button"
          className="icon menu-button"
          aria-label="Show conversations"
          aria-expanded={drawerOpen}
          onClick={onMenu}
        >
          <MenuIcon />
        </button>
      )}
      <Link href="/" className="brand">
        Convo
      </Link>
      {session?.user && isOperator(session) && (
        <nav aria-label="Main" className="main-nav">
          <Link href="/">Chat</Link>
          <Link href="/analytics">Analytics</Link>
        </nav>
      )}
      <span className="spacer" />
      {session?.user && (
        <span className="who" title={session.user.id}>
          {userName(session.user)}
        </span>
      )}
      {session?.user && isOperator(session) && (
        <button type="button" onClick={() => signIn({ ...session, user: null })}>
          Switch user
        </button>
      )}
      <ThemeToggle />
      {session && (
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      )}
    </header>
  );
}

function Shell({ userId }: { userId: string }) {
  const { session } = useSession();
  const [, params] = useRoute("/c/:id");
  const [drawer, setDrawer] = useState(false);
  // On a narrow screen the list is a drawer over the page: Escape closes it.
  useEffect(() => {
    if (!drawer) return;
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setDrawer(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [drawer]);
  return (
    <div className={`shell ${drawer ? "drawer-open" : ""}`}>
      <Header onMenu={() => setDrawer((open) => !open)} drawerOpen={drawer} />
      <div className="body">
        <ErrorBoundary where="conversation list">
          <Sidebar userId={userId} currentId={params?.id} onNavigate={() => setDrawer(false)} />
        </ErrorBoundary>
        <main className="main">
          <ErrorBoundary where="page">
            <Switch>
              <Route path="/c/:id">{(p) => <ChatPage conversationId={p.id} />}</Route>
              <Route path="/analytics">
                {isOperator(session) ? (
                  <Suspense fallback={<p className="muted pad">Loading analytics…</p>}>
                    <Analytics />
                  </Suspense>
                ) : (
                  <p className="pad">Analytics need an admin key.</p>
                )}
              </Route>
              <Route path="/">
                <section className="chat empty" aria-label="No conversation open">
                  <h1 className="empty-title">Pick a conversation, or start a new one.</h1>
                </section>
              </Route>
              <Route>
                <Redirect to="/" />
              </Route>
            </Switch>
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}
