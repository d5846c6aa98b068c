import { Component, ErrorInfo, ReactNode, StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Spinner } from './components/ui';
import { api, onUnauthorized, setCsrfToken } from './lib/api';
import { AuthContext, can, useAuth } from './lib/auth';
import { Link, match, navigate, useLocation } from './lib/router';
import type { Session } from './lib/types';
import { AdminKeys, AdminUsers } from './pages/Admin';
import { AdminTriggers } from './pages/Triggers';
import { AdminWebhooks } from './pages/Webhooks';
import { ExperimentPage } from './pages/Experiment';
import { ExperimentsList } from './pages/Experiments';
import { NewExperiment } from './pages/Wizard';
import { SetupPage, SignInPage } from './pages/SignIn';
import './styles.css';

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [bootError, setBootError] = useState<string | null>(null);
  const { path } = useLocation();

  const refresh = useCallback(async () => {
    try {
      const s = await api<Session>('GET', '/v1/console/session');
      setCsrfToken(s.csrfToken);
      setSession(s);
      setBootError(null);
    } catch (err) {
      setBootError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  const signOut = useCallback(async () => {
    await api('POST', '/v1/console/sign-out').catch(() => undefined);
    setCsrfToken(null);
    await refresh();
    navigate('/sign-in', true);
  }, [refresh]);

  useEffect(() => {
    void refresh();
    return onUnauthorized(() => void refresh());
  }, [refresh]);

  // Signed out: send to setup (first run) or sign-in, remembering where the user wanted to go.
  useEffect(() => {
    if (!session) return;
    if (!session.user) {
      const target = session.setupRequired ? '/setup' : '/sign-in';
      if (path !== target)
        navigate(
          path === '/' || path === '/sign-in' || path === '/setup'
            ? target
            : `${target}?next=${encodeURIComponent(path + location.search)}`,
          true,
        );
    } else if (path === '/sign-in' || path === '/setup') {
      const next = new URLSearchParams(location.search).get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', true);
    }
  }, [session, path]);

  if (bootError)
    return (
      <div className="center-page">
        <div className="banner banner-red">The console could not reach the API: {bootError}</div>
      </div>
    );
  if (!session)
    return (
      <div className="center-page">
        <Spinner />
      </div>
    );
  const auth = { session, refresh, signOut };
  if (!session.user) {
    return (
      <AuthContext.Provider value={auth}>{session.setupRequired ? <SetupPage /> : <SignInPage />}</AuthContext.Provider>
    );
  }
  return (
    <AuthContext.Provider value={auth}>
      <Shell path={path} />
    </AuthContext.Provider>
  );
}

function Shell({ path }: { path: string }) {
  const [menu, setMenu] = useState(false);
  const { session, signOut } = useAuth();
  const user = session.user!;
  useEffect(() => setMenu(false), [path]);
  if (/^\/experiments\/[^/]+\/print$/.test(path)) {
    // The printable report: no navigation around it.
    return (
      <ErrorBoundary key={path}>
        <Routes path={path} />
      </ErrorBoundary>
    );
  }
  const section = path.startsWith('/admin/users')
    ? 'users'
    : path.startsWith('/admin/keys')
      ? 'keys'
      : path.startsWith('/admin/webhooks')
        ? 'webhooks'
        : path.startsWith('/admin/triggers')
          ? 'triggers'
          : 'experiments';
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={26} height={26} /> Slotwise
        </Link>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menu}
          aria-controls="nav"
          onClick={() => setMenu((m) => !m)}
        >
          Menu
        </button>
        <nav id="nav" className={`nav ${menu ? 'open' : ''}`} aria-label="Main">
          <Link to="/" className={section === 'experiments' ? 'active' : ''}>
            Experiments
          </Link>
          {can.admin(user.role) && (
            <>
              <Link to="/admin/users" className={section === 'users' ? 'active' : ''}>
                Users
              </Link>
              <Link to="/admin/keys" className={section === 'keys' ? 'active' : ''}>
                API keys
              </Link>
              <Link to="/admin/webhooks" className={section === 'webhooks' ? 'active' : ''}>
                Webhooks
              </Link>
              <Link to="/admin/triggers" className={section === 'triggers' ? 'active' : ''}>
                Triggers
              </Link>
            </>
          )}
          <a href="/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
          <div className="nav-user">
            <span className="user-chip" title={user.email} data-testid="current-user">
              {user.name || user.email} <span className="role">{user.role}</span>
            </span>
            <button type="button" className="btn btn-ghost" onClick={() => void signOut()} data-testid="sign-out">
              Sign out
            </button>
          </div>
        </nav>
      </header>
      <main className="main">
        <ErrorBoundary key={path}>
          <Routes path={path} />
        </ErrorBoundary>
      </main>
    </div>
  );
}

/** A page that throws shows an error and the way back instead of a blank screen. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('console page failed', error, info.componentStack);
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page">
        <div className="banner banner-red" role="alert">
          <div>
            <strong>This page failed to display.</strong> {this.state.error.message}
          </div>
          <Link to="/">Back to experiments</Link>
        </div>
      </div>
    );
  }
}

function Routes({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '/experiments') return <ExperimentsList />;
  if (path === '/experiments/new') return <NewExperiment />;
  if ((m = match('/experiments/:key', path))) return <ExperimentPage experimentKey={m.key} tab="overview" />;
  if ((m = match('/experiments/:key/:tab', path))) return <ExperimentPage experimentKey={m.key} tab={m.tab} />;
  if (path === '/admin/users') return <AdminUsers />;
  if (path === '/admin/keys') return <AdminKeys />;
  if (path === '/admin/webhooks') return <AdminWebhooks />;
  if (path === '/admin/triggers') return <AdminTriggers />;
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p className="muted">
        There is nothing at {path}. <Link to="/">Back to experiments</Link>
      </p>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
