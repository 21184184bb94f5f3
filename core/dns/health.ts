// core/dns/health.ts — which service instances DNS may hand out.
//
// Owns: the tag filter (case-insensitive) and Consul's health filter: an instance with any
// critical check, its own or its node's (serfHealth included), is left out; with
// only_passing a warning check leaves it out too. Each drop yields Consul's WARN line.
// Must never: reorder instances (shuffling is the answerer's, with the injected rng).
import type { LogEffect } from '../machine.ts';
import type { HealthCheck, ServiceInstance } from '../catalog/types.ts';

export function hasTag(instance: ServiceInstance, tag: string): boolean {
  if (tag === '') return true;
  const want = tag.toLowerCase();
  return instance.Service.Tags.some((t) => t.toLowerCase() === want);
}

function failingCheck(instance: ServiceInstance, onlyPassing: boolean): HealthCheck | undefined {
  // Checks of other services on the same node do not count: the view hands in only the
  // instance's own checks and the node-level ones, but filter again in case it did not.
  const relevant = instance.Checks.filter((c) => c.ServiceID === '' || c.ServiceID === instance.Service.ID);
  return (
    relevant.find((c) => c.Status === 'critical') ??
    (onlyPassing ? relevant.find((c) => c.Status !== 'passing') : undefined)
  );
}

/** Instances DNS may answer with, plus one log line per instance left out. */
export function filterHealthy(
  instances: readonly ServiceInstance[],
  onlyPassing: boolean,
): { healthy: ServiceInstance[]; logs: LogEffect[] } {
  const healthy: ServiceInstance[] = [];
  const logs: LogEffect[] = [];
  for (const inst of instances) {
    const bad = failingCheck(inst, onlyPassing);
    if (!bad) {
      healthy.push(inst);
      continue;
    }
    logs.push({
      kind: 'log',
      level: 'WARN',
      source: 'dns',
      text: `node '${inst.Node.Node}' failing health check '${bad.CheckID}: ${bad.Name}', dropping from service '${inst.Service.Service}'`,
    });
  }
  return { healthy, logs };
}
