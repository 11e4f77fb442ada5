/**
 * The Twinbridge web console: a browser app served at /ui by the service (src/api/http/ui.ts). Pages by
 * path; API users see things and policies, devops users the overview, connections and the mapping tester.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render, type ComponentChildren, type FunctionComponent } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { handleUnauthorized, setSession, useSession, type Session } from './lib/api';
import { navigate, route, useLocation, type Location } from './lib/router';
import { Brand, Link } from './components/common';
import { SignIn } from './pages/SignIn';
import { ThingsPage } from './pages/Things';
import { ThingPage } from './pages/Thing';
import { PoliciesPage, PolicyPage } from './pages/Policies';
import { ConnectionsPage } from './pages/Connections';
import { ConnectionPage } from './pages/Connection';
import { MappingTesterPage } from './pages/MappingTester';
import { OverviewPage } from './pages/Overview';

type Realm = 'api' | 'devops';

interface Page {
  pattern: string;
  realm: Realm;
  component: FunctionComponent<{ params: Record<string, string>; location: Location; session: Session }>;
}

const PAGES: Page[] = [
  { pattern: '/things', realm: 'api', component: ThingsPage },
  { pattern: '/things/:id', realm: 'api', component: ThingPage },
  { pattern: '/policies', realm: 'api', component: PoliciesPage },
  { pattern: '/policies/:id', realm: 'api', component: PolicyPage },
  { pattern: '/overview', realm: 'devops', component: OverviewPage },
  { pattern: '/connections', realm: 'devops', component: ConnectionsPage },
  { pattern: '/connections/new', realm: 'devops', component: ConnectionPage },
  { pattern: '/connections/:id', realm: 'devops', component: ConnectionPage },
  { pattern: '/mapping', realm: 'devops', component: MappingTesterPage },
];

const NAV: Array<{ group: string; realm: Realm; items: Array<{ to: string; label: string; icon: string }> }> =
  [
    {
      group: 'Twins',
      realm: 'api',
      items: [
        { to: '/things', label: 'Things', icon: 'M4 5h16v4H4zM4 11h16v4H4zM4 17h10v3H4z' },
        { to: '/policies', label: 'Policies', icon: 'M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6z' },
      ],
    },
    {
      group: 'Connectivity',
      realm: 'devops',
      items: [
        { to: '/overview', label: 'Overview', icon: 'M4 20V10h3v10zM10.5 20V4h3v16zM17 20v-7h3v7z' },
        {
          to: '/connections',
          label: 'Connections',
          icon: 'M7 7a3 3 0 1 0 0 .01M17 17a3 3 0 1 0 0 .01M9 9l6 6',
        },
        { to: '/mapping', label: 'Mapping tester', icon: 'M8 6l-5 6 5 6M16 6l5 6-5 6M13.5 4l-3 16' },
      ],
    },
  ];

/** Where a session starts: the things list for API users (as Ditto's explorer), else the overview. */
export function landing(session: Session): string {
  return session.api ? '/things' : '/overview';
}

function allowed(session: Session, realm: Realm): boolean {
  return realm === 'api' ? session.api !== null : session.devops !== null;
}

function Icon(props: { path: string }) {
  return (
    <svg class="nav-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={props.path} />
    </svg>
  );
}

function Layout(props: { session: Session; path: string; children: ComponentChildren }) {
  const { session, path } = props;
  const roles = [session.api ? 'API' : '', session.devops ? 'devops' : ''].filter(Boolean).join(' · ');
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <nav class="sidebar" aria-label="Console">
        <Brand class="brand" />
        {NAV.filter((g) => allowed(session, g.realm)).map((g) => (
          <div class="nav-group" key={g.group}>
            <p class="nav-group-title" id={`nav-${g.group}`}>
              {g.group}
            </p>
            <ul aria-labelledby={`nav-${g.group}`}>
              {g.items.map((item) => {
                const active = path === item.to || path.startsWith(item.to + '/');
                return (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      class={`nav-link${active ? ' active' : ''}`}
                      aria-current={active ? 'page' : undefined}
                    >
                      <Icon path={item.icon} />
                      {item.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        ))}
        <div class="sidebar-footer">
          <p class="whoami">
            <span class="whoami-user">{session.user}</span>
            <span class="whoami-roles">{roles}</span>
          </p>
          <button
            type="button"
            class="button button-quiet button-small"
            onClick={() => {
              setSession(null);
              navigate('/signin');
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" class="content">
        {props.children}
      </main>
    </div>
  );
}

function NotAllowed(props: { realm: Realm }) {
  return (
    <div class="page">
      <header class="page-header">
        <h1 tabIndex={-1} id="page-title">
          Not available
        </h1>
      </header>
      <div class="alert alert-info" role="status">
        {props.realm === 'devops'
          ? 'This page is for devops users (connection management). Sign in with a devops user to use it.'
          : 'This page is for API users (things and policies). Sign in with an API user to use it.'}
      </div>
    </div>
  );
}

function here(location: Location): string {
  return location.path + (location.query.size ? `?${location.query}` : '');
}

function Redirect(props: { to: string }) {
  useEffect(() => navigate(props.to, true), [props.to]);
  return null;
}

function App() {
  const session = useSession();
  const location = useLocation();
  const previousPath = useRef<string | undefined>(undefined);

  useEffect(() => {
    handleUnauthorized(() => {
      setSession(null);
      navigate(`/signin?expired=1&next=${encodeURIComponent(here(location))}`, true);
    });
  });

  // After navigating, focus moves to the new page's heading so screen readers announce it.
  useEffect(() => {
    if (previousPath.current !== undefined && previousPath.current !== location.path)
      document.getElementById('page-title')?.focus();
    previousPath.current = location.path;
  });

  if (location.path === '/signin')
    return session ? <Redirect to={landing(session)} /> : <SignIn location={location} />;
  if (!session) return <Redirect to={`/signin?next=${encodeURIComponent(here(location))}`} />;
  if (location.path === '/') return <Redirect to={landing(session)} />;
  for (const page of PAGES) {
    const params = route(page.pattern, location.path);
    if (!params) continue;
    const Component = page.component;
    return (
      <Layout session={session} path={location.path}>
        {allowed(session, page.realm) ? (
          <Component key={location.path} params={params} location={location} session={session} />
        ) : (
          <NotAllowed realm={page.realm} />
        )}
      </Layout>
    );
  }
  return (
    <Layout session={session} path={location.path}>
      <div class="page">
        <header class="page-header">
          <h1 tabIndex={-1} id="page-title">
            Page not found
          </h1>
        </header>
        <p>
          There is no console page at <code>{location.path}</code>.{' '}
          <Link to={landing(session)}>Go to the start page</Link>.
        </p>
      </div>
    </Layout>
  );
}

render(<App />, document.getElementById('app')!);
