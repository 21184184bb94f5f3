// ui/app.tsx — the UI shell: header with the agent and the leader, navigation, the
// "No cluster leader" and "agent unreachable" banners, and the hash router.
//
// Owns: layout and which page shows for which #/route. A leader watch polls
// /v1/status/leader every second so the banner appears and clears on its own.
// Must never: stop retrying; an agent without a leader is a normal state to display.
import { useEffect, useState } from 'react';
import { reportLeaderKnown, reportNoLeader, useAgentState } from './agent-state.ts';
import { usePoll } from './live.ts';
import { href, parseRoute, type Route } from './model/route.ts';
import { KvPage } from './pages/kv.tsx';
import { NodePage } from './pages/node.tsx';
import { NodesPage } from './pages/nodes.tsx';
import { RaftPage } from './pages/raft.tsx';
import { ServicePage } from './pages/service.tsx';
import { ServicesPage } from './pages/services.tsx';

function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}

function useLeaderWatch(): string | undefined {
  const leader = usePoll<string>('/v1/status/leader', 1000);
  useEffect(() => {
    if (leader.data === undefined) return;
    if (leader.data === '') reportNoLeader();
    else reportLeaderKnown();
  }, [leader.data, leader.version]);
  return leader.data;
}

function Banners() {
  const s = useAgentState();
  return (
    <>
      {s.unreachable !== null ? (
        <div className="banner unreachable" role="alert" data-testid="unreachable-banner">
          <strong>Cannot reach the agent</strong> at {window.location.host} ({s.unreachable}). Retrying…
        </div>
      ) : null}
      {s.noLeader && s.unreachable === null ? (
        <div className="banner no-leader" role="alert" data-testid="no-leader-banner">
          <strong>No cluster leader</strong> — the servers have not elected a leader, so catalog, health and KV reads fail. The
          page keeps retrying and updates once a leader is elected.
        </div>
      ) : null}
    </>
  );
}

const NAV: Array<{ label: string; route: Route; pages: Route['page'][] }> = [
  { label: 'Services', route: { page: 'services' }, pages: ['services', 'service'] },
  { label: 'Nodes', route: { page: 'nodes' }, pages: ['nodes', 'node'] },
  { label: 'Key/Value', route: { page: 'kv', path: '' }, pages: ['kv'] },
  { label: 'Raft', route: { page: 'raft' }, pages: ['raft'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'services':
      return <ServicesPage />;
    case 'service':
      return <ServicePage key={route.name} name={route.name} />;
    case 'nodes':
      return <NodesPage />;
    case 'node':
      return <NodePage key={route.name} name={route.name} />;
    case 'kv':
      return <KvPage path={route.path} />;
    case 'raft':
      return <RaftPage />;
    case 'notFound':
      return (
        <section>
          <h2>Not found</h2>
          <p>
            No page at <code>{route.hash}</code>. Go to <a href={href({ page: 'services' })}>services</a>.
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  const leader = useLeaderWatch();
  const self = usePoll<{ Config: Record<string, unknown> }>('/v1/agent/self', 5000);
  const dc = self.data?.Config['Datacenter'];
  const nodeName = self.data?.Config['NodeName'];
  return (
    <div className="app">
      <header>
        <a className="brand" href={href({ page: 'services' })}>
          Muster
        </a>
        <nav>
          {NAV.map((n) => (
            <a key={n.label} href={href(n.route)} className={n.pages.includes(route.page) ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <div className="agent" data-testid="agent-info">
          {typeof nodeName === 'string' ? (
            <span>
              agent <strong>{nodeName}</strong>
              {typeof dc === 'string' ? ` · ${dc}` : ''}
            </span>
          ) : null}
          <span>
            {' '}
            · leader <span className="mono">{leader === undefined ? '…' : leader === '' ? 'none' : leader}</span>
          </span>
        </div>
      </header>
      <Banners />
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}
