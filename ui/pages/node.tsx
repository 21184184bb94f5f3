// ui/pages/node.tsx — one node: address, gossip status and tags, its services and all its
// checks with output.
//
// Live: blocking reads of /v1/catalog/node/<n> and /v1/health/node/<n>; members polled twice a second.
// Must never: assume the node is in the catalog (a left node is only a gossip member).
import { ErrorLine, GossipBadge, Loading, Section, StatusBadge, Tags } from '../components.tsx';
import { useBlocking, usePoll } from '../live.ts';
import { memberStatusName, type CatalogNode, type Check, type Member, type NodeService } from '../model/health.ts';
import { href } from '../model/route.ts';
import { MEMBERS_POLL_MS } from '../model/blocking.ts';

interface NodeServices {
  Node: CatalogNode;
  Services: Record<string, NodeService>;
}

export function NodePage({ name }: { name: string }) {
  const enc = encodeURIComponent(name);
  const node = useBlocking<NodeServices | null>(`/v1/catalog/node/${enc}`);
  const checks = useBlocking<Check[]>(`/v1/health/node/${enc}`);
  const members = usePoll<Member[]>('/v1/agent/members', MEMBERS_POLL_MS);
  const member = members.data?.find((m) => m.Name === name);
  const services = Object.values(node.data?.Services ?? {}).sort((a, b) => a.ID.localeCompare(b.ID));
  return (
    <Section
      title={`Node ${name}`}
      extra={
        <a className="back" href={href({ page: 'nodes' })}>
          ← all nodes
        </a>
      }
    >
      <ErrorLine error={node.error ?? checks.error ?? members.error} stale={node.data !== undefined} />
      {node.data === undefined && member === undefined ? (
        <Loading what={`node ${name}`} error={node.error ?? members.error} />
      ) : (
        <>
          <dl className="facts" data-testid="node-facts">
            <dt>Address</dt>
            <dd className="mono">{node.data?.Node.Address ?? member?.Addr ?? '—'}</dd>
            <dt>Datacenter</dt>
            <dd>{node.data?.Node.Datacenter || member?.Tags['dc'] || '—'}</dd>
            <dt>Gossip</dt>
            <dd>
              <GossipBadge status={member ? memberStatusName(member.Status) : members.data ? 'not a member' : 'unknown'} />
              {member ? <span className="muted small"> {`${member.Addr}:${member.Port}`}</span> : null}
            </dd>
            <dt>Role</dt>
            <dd>{member ? (member.Tags['role'] === 'consul' ? 'server' : 'client') : '—'}</dd>
            <dt>Catalog</dt>
            <dd>{node.data ? 'registered' : node.data === null ? 'not registered' : '…'}</dd>
          </dl>
          <h3>Services</h3>
          {services.length === 0 ? (
            <p className="muted">No services on this node.</p>
          ) : (
            <table className="grid" data-testid="node-services">
              <thead>
                <tr>
                  <th>ID</th>
                  <th>Service</th>
                  <th>Tags</th>
                  <th>Address</th>
                </tr>
              </thead>
              <tbody>
                {services.map((s) => (
                  <tr key={s.ID}>
                    <td className="mono">{s.ID}</td>
                    <td>
                      <a href={href({ page: 'service', name: s.Service })}>{s.Service}</a>
                    </td>
                    <td>
                      <Tags tags={s.Tags} />
                    </td>
                    <td className="mono">{`${s.Address || node.data?.Node.Address || ''}:${s.Port}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Checks</h3>
          {(checks.data ?? []).length === 0 ? (
            <p className="muted">No checks on this node.</p>
          ) : (
            <table className="grid" data-testid="node-checks">
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Status</th>
                  <th>Service</th>
                  <th>Output</th>
                </tr>
              </thead>
              <tbody>
                {(checks.data ?? []).map((c) => (
                  <tr key={c.CheckID} data-check={c.CheckID}>
                    <td>
                      <strong>{c.Name || c.CheckID}</strong> <span className="muted small">({c.CheckID})</span>
                    </td>
                    <td>
                      <StatusBadge status={c.Status} />
                    </td>
                    <td>{c.ServiceName || <span className="muted">node</span>}</td>
                    <td>{c.Output ? <pre className="output">{c.Output}</pre> : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Section>
  );
}
