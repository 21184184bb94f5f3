// ui/pages/nodes.tsx — every node: address, gossip status (from this agent's member list),
// serfHealth, check counts and the services it runs.
//
// Live: blocking reads of /v1/catalog/nodes and /v1/health/state/any; /v1/agent/members is
// polled twice a second (agent-local, no index); each catalog change re-reads
// /v1/catalog/node/<n> for the service lists. Nodes that gossip knows but the catalog no
// longer lists (a left client) still appear, so a leave is visible.
// Must never: treat a missing member as healthy.
import { ErrorLine, GossipBadge, Loading, Section, StatusBadge } from '../components.tsx';
import { useBlocking, useFanout, usePoll } from '../live.ts';
import { memberStatusName, worstStatus, type CatalogNode, type Check, type Member, type NodeService } from '../model/health.ts';
import { href } from '../model/route.ts';
import { MEMBERS_POLL_MS } from '../model/blocking.ts';

const nodePath = (n: string) => `/v1/catalog/node/${encodeURIComponent(n)}`;

interface NodeServices {
  Node: CatalogNode;
  Services: Record<string, NodeService>;
}

export function NodesPage() {
  const nodes = useBlocking<CatalogNode[]>('/v1/catalog/nodes');
  const checks = useBlocking<Check[]>('/v1/health/state/any');
  const members = usePoll<Member[]>('/v1/agent/members', MEMBERS_POLL_MS);
  const catalogNames = (nodes.data ?? []).map((n) => n.Node);
  const detail = useFanout<NodeServices>(catalogNames.map(nodePath), String(nodes.version));

  const byName = new Map<string, { address: string; inCatalog: boolean }>();
  for (const n of nodes.data ?? []) byName.set(n.Node, { address: n.Address, inCatalog: true });
  for (const m of members.data ?? []) if (!byName.has(m.Name)) byName.set(m.Name, { address: m.Addr, inCatalog: false });
  const names = [...byName.keys()].sort();

  return (
    <Section title="Nodes" extra={nodes.data || members.data ? <span className="muted">{names.length} known</span> : null}>
      <ErrorLine error={nodes.error ?? checks.error ?? members.error} stale={nodes.data !== undefined} />
      {nodes.data === undefined && members.data === undefined ? (
        <Loading what="nodes" error={nodes.error ?? members.error} />
      ) : (
        <table className="grid" data-testid="nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>Address</th>
              <th>Gossip</th>
              <th>serfHealth</th>
              <th>Checks</th>
              <th>Services</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const info = byName.get(name)!;
              const member = members.data?.find((m) => m.Name === name);
              const nodeChecks = (checks.data ?? []).filter((c) => c.Node === name);
              const serf = nodeChecks.find((c) => c.CheckID === 'serfHealth');
              const services = detail.values[nodePath(name)]?.Services ?? {};
              return (
                <tr key={name} data-node={name}>
                  <td>
                    <a href={href({ page: 'node', name })}>{name}</a>
                    {info.inCatalog ? null : <div className="muted small">not in the catalog</div>}
                  </td>
                  <td className="mono">{info.address}</td>
                  <td>
                    <GossipBadge status={member ? memberStatusName(member.Status) : members.data ? 'not a member' : 'unknown'} />
                  </td>
                  <td title={serf?.Output ?? ''}>{serf ? <StatusBadge status={serf.Status} /> : <span className="muted">—</span>}</td>
                  <td>{nodeChecks.length === 0 ? <span className="muted">—</span> : <StatusBadge status={worstStatus(nodeChecks.map((c) => c.Status))} />}</td>
                  <td>
                    {Object.values(services)
                      .map((s) => s.Service)
                      .filter((s, i, all) => all.indexOf(s) === i)
                      .sort()
                      .map((s) => (
                        <a key={s} className="tag link" href={href({ page: 'service', name: s })}>
                          {s}
                        </a>
                      ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}
