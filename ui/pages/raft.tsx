// ui/pages/raft.tsx — the Raft panel: the servers in the Raft configuration with the leader
// marked (as `operator raft list-peers`), and this agent's own Raft numbers (as the `raft:`
// section of `consul info`: state, term, commit and applied index, last contact).
//
// Live: polled once a second (status and operator endpoints have no index to block on).
// The configuration is read with ?stale so the peers still show while there is no leader.
// Must never: claim numbers for other servers; only the agent talked to reports its own.
import { ErrorLine, Loading, Section } from '../components.tsx';
import { usePoll } from '../live.ts';

interface RaftServer {
  ID: string;
  Node: string;
  Address: string;
  Leader: boolean;
  Voter: boolean;
}

interface AgentSelf {
  Config: Record<string, unknown>;
  Member: { Name: string; Addr: string };
  Stats?: Record<string, Record<string, string>>;
}

const RAFT_FIELDS: Array<[string, string]> = [
  ['state', 'State'],
  ['term', 'Term'],
  ['commit_index', 'Commit index'],
  ['applied_index', 'Applied index'],
  ['last_log_index', 'Last log index'],
  ['last_log_term', 'Last log term'],
  ['last_snapshot_index', 'Last snapshot index'],
  ['num_peers', 'Peers'],
  ['last_contact', 'Last contact'],
];

export function RaftPage() {
  const config = usePoll<{ Servers: RaftServer[]; Index: number }>('/v1/operator/raft/configuration?stale', 1000);
  const leader = usePoll<string>('/v1/status/leader', 1000);
  const peers = usePoll<string[]>('/v1/status/peers', 1000);
  const self = usePoll<AgentSelf>('/v1/agent/self', 1000);
  const raft = self.data?.Stats?.['raft'];
  const isServer = self.data?.Config['Server'] === true || self.data?.Stats?.['consul']?.['server'] === 'true';
  const servers = config.data?.Servers ?? [];
  return (
    <>
      <Section title="Raft servers">
        <ErrorLine error={config.error ?? leader.error ?? peers.error} stale={config.data !== undefined} />
        <dl className="facts" data-testid="raft-leader">
          <dt>Leader</dt>
          <dd className="mono">{leader.data === undefined ? '…' : leader.data === '' ? 'none (no cluster leader)' : leader.data}</dd>
          <dt>Peers (status/peers)</dt>
          <dd className="mono">{peers.data === undefined ? '…' : peers.data.length === 0 ? 'none' : peers.data.join(', ')}</dd>
          {config.data ? (
            <>
              <dt>Configuration index</dt>
              <dd className="mono">{config.data.Index}</dd>
            </>
          ) : null}
        </dl>
        {config.data === undefined ? (
          <Loading what="the Raft configuration" error={config.error} />
        ) : servers.length === 0 ? (
          <p className="muted">The Raft configuration is empty (no servers known yet).</p>
        ) : (
          <table className="grid" data-testid="raft-peers">
            <thead>
              <tr>
                <th>Node</th>
                <th>ID</th>
                <th>Address</th>
                <th>State</th>
                <th>Voter</th>
              </tr>
            </thead>
            <tbody>
              {servers.map((s) => (
                <tr key={s.ID} data-peer={s.Node} className={s.Leader ? 'leader-row' : ''}>
                  <td>{s.Node}</td>
                  <td className="mono">{s.ID}</td>
                  <td className="mono">{s.Address}</td>
                  <td>{s.Leader ? <strong>leader</strong> : 'follower'}</td>
                  <td>{s.Voter ? 'true' : 'false'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={`This agent${self.data ? ` (${self.data.Member.Name})` : ''}`}>
        <ErrorLine error={self.error} stale={self.data !== undefined} />
        {self.data === undefined ? (
          <Loading what="agent stats" error={self.error} />
        ) : !raft ? (
          <p className="muted">{isServer ? 'This server reports no Raft statistics.' : 'This agent is a client: it runs no Raft.'}</p>
        ) : (
          <dl className="facts" data-testid="raft-self">
            {RAFT_FIELDS.filter(([k]) => raft[k] !== undefined).map(([k, label]) => (
              <div key={k} className="fact" data-stat={k}>
                <dt>{label}</dt>
                <dd className="mono">{raft[k]}</dd>
              </div>
            ))}
          </dl>
        )}
      </Section>
    </>
  );
}
