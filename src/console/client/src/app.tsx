import { useCallback, useEffect, useState } from 'react';
import { currentSession, errorText, onSessionExpired, signOut } from './api';
import { Layout } from './components/layout';
import { ErrorBoundary } from './components/error-boundary';
import { ErrorBox, Loading } from './components/ui';
import { useRoute } from './router';
import { SessionContext } from './session';
import type { Session } from './types';
import { SignIn } from './pages/sign-in';
import { OverviewPage } from './pages/overview';
import { CasesPage } from './pages/cases';
import { CasePage } from './pages/case';
import { AccountsPage } from './pages/accounts';
import { AccountPage } from './pages/account';
import { OrgsPage, OrgPage } from './pages/orgs';
import { PolicyPage } from './pages/policy';
import { UsersPage } from './pages/users';
import { NotFound } from './pages/not-found';

type State = { kind: 'loading' } | { kind: 'error'; error: string } | { kind: 'signed-out'; notice?: string } | { kind: 'signed-in'; session: Session };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const route = useRoute();

  const load = useCallback(() => {
    setState({ kind: 'loading' });
    currentSession()
      .then((s) => setState(s ? { kind: 'signed-in', session: s } : { kind: 'signed-out' }))
      .catch((e: unknown) => setState({ kind: 'error', error: errorText(e) }));
  }, []);
  useEffect(load, [load]);
  useEffect(() => onSessionExpired(() => setState({ kind: 'signed-out', notice: 'Session expired — sign in again.' })), []);

  if (state.kind === 'loading') {
    return (
      <main className="center-page" id="main">
        <Loading label="Opening the console…" />
      </main>
    );
  }
  if (state.kind === 'error') {
    return (
      <main className="center-page" id="main">
        <h1 className="sr-only">Warden console</h1>
        <ErrorBox error={state.error} onRetry={load} />
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return <SignIn notice={state.notice} onSignedIn={(session) => setState({ kind: 'signed-in', session })} />;
  }
  const user = state.session.user;
  const [section = 'overview', id] = route.parts;
  let page;
  switch (section) {
    case 'overview':
      page = <OverviewPage />;
      break;
    case 'cases':
      page = id ? <CasePage key={id} caseId={id} /> : <CasesPage query={route.query} />;
      break;
    case 'accounts':
      page = id ? <AccountPage key={id} accountId={id} /> : <AccountsPage query={route.query} />;
      break;
    case 'orgs':
      page = id ? <OrgPage key={id} orgId={id} /> : <OrgsPage />;
      break;
    case 'policy':
      page = <PolicyPage />;
      break;
    case 'users':
      page = <UsersPage />;
      break;
    default:
      page = <NotFound />;
  }
  return (
    <SessionContext.Provider value={user}>
      <Layout
        user={user}
        active={section}
        onSignOut={() => {
          void signOut().finally(() => setState({ kind: 'signed-out', notice: 'You are signed out.' }));
        }}
      >
        <ErrorBoundary resetKey={route.parts.join('/')}>{page}</ErrorBoundary>
      </Layout>
    </SessionContext.Provider>
  );
}
