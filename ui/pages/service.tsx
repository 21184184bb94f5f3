// ui/pages/service.tsx — one service's instances: node, address:port, overall status and
// every check (service checks and the node's serfHealth) with its status and output.
//
// Live: one blocking read of /v1/health/service/<name>.
// Must never: hide unhealthy instances (it asks without ?passing).
import { ErrorLine, Loading, Section, StatusBadge, Tags } from '../components.tsx';
import { useBlocking } from '../live.ts';
import { countByHealth, instanceAddress, instanceStatus, type HealthInstance } from '../model/health.ts';
import { href } from '../model/route.ts';

export function ServicePage({ name }: { name: string }) {
  const live = useBlocking<HealthInstance[]>(`/v1/health/service/${encodeURIComponent(name)}`);
  const list = live.data ?? [];
  const counts = countByHealth(list);
  return (
    <Section
      title={`Service ${name}`}
      extra={
        <a className="back" href={href({ page: 'services' })}>
          ← all services
        </a>
      }
    >
      <ErrorLine error={live.error} stale={live.data !== undefined} />
      {live.data === undefined ? (
        <Loading what={`instances of ${name}`} error={live.error} />
      ) : list.length === 0 ? (
        <p className="muted">No instances of {name} are registered.</p>
      ) : (
        <>
          <p className="summary">
            {list.length} instance{list.length === 1 ? '' : 's'}: {counts.passing} passing, {counts.warning} warning, {counts.critical}{' '}
            critical
          </p>
          <table className="grid" data-testid="instances">
            <thead>
              <tr>
                <th>Node</th>
                <th>Address</th>
                <th>Status</th>
                <th>Tags</th>
                <th>Checks</th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <tr key={`${i.Node.Node}/${i.Service.ID}`} data-instance={i.Node.Node} data-status={instanceStatus(i)}>
                  <td>
                    <a href={href({ page: 'node', name: i.Node.Node })}>{i.Node.Node}</a>
                    {i.Service.ID !== i.Service.Service ? <div className="muted small">id {i.Service.ID}</div> : null}
                  </td>
                  <td className="mono">{instanceAddress(i)}</td>
                  <td>
                    <StatusBadge status={instanceStatus(i)} />
                  </td>
                  <td>
                    <Tags tags={i.Service.Tags} />
                  </td>
                  <td>
                    <ul className="checks">
                      {i.Checks.map((c) => (
                        <li key={c.CheckID} data-check={c.CheckID}>
                          <StatusBadge status={c.Status} /> <strong>{c.Name || c.CheckID}</strong>{' '}
                          <span className="muted small">({c.CheckID})</span>
                          {c.Output ? <pre className="output">{c.Output}</pre> : null}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}
