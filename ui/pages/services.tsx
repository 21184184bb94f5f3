// ui/pages/services.tsx — every service in the catalog with its tags and how many of its
// instances are passing, warning or critical.
//
// Live: blocking reads of /v1/catalog/services (names, tags) and /v1/health/state/any (any
// check change); each change re-reads /v1/health/service/<name> for the counts.
// Must never: block on one request per service (browsers allow ~6 connections per host).
import { Counts, ErrorLine, Loading, Section, Tags } from '../components.tsx';
import { useBlocking, useFanout } from '../live.ts';
import { countByHealth, type Check, type HealthInstance } from '../model/health.ts';
import { href } from '../model/route.ts';

const healthPath = (name: string) => `/v1/health/service/${encodeURIComponent(name)}`;

export function ServicesPage() {
  const services = useBlocking<Record<string, string[] | null>>('/v1/catalog/services');
  const checks = useBlocking<Check[]>('/v1/health/state/any');
  const names = Object.keys(services.data ?? {}).sort();
  const health = useFanout<HealthInstance[]>(names.map(healthPath), `${services.version}:${checks.version}`);
  return (
    <Section title="Services" extra={services.data ? <span className="muted">{names.length} registered</span> : null}>
      <ErrorLine error={services.error ?? checks.error} stale={services.data !== undefined} />
      {services.data === undefined ? (
        <Loading what="services" error={services.error} />
      ) : names.length === 0 ? (
        <p className="muted">No services are registered.</p>
      ) : (
        <table className="grid" data-testid="services">
          <thead>
            <tr>
              <th>Service</th>
              <th>Tags</th>
              <th>Instances</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const inst = health.values[healthPath(name)];
              return (
                <tr key={name} data-service={name}>
                  <td>
                    <a href={href({ page: 'service', name })}>{name}</a>
                  </td>
                  <td>
                    <Tags tags={services.data![name]} />
                  </td>
                  <td>
                    <Counts counts={inst ? countByHealth(inst) : undefined} />
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
