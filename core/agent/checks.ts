// core/agent/checks.ts — turning check definitions into runnable local checks.
//
// Owns: the mapping from a parsed definition (core/agent/definitions.ts) to a LocalCheck:
// its probe spec, interval, timeout and initial status.
// Must never: run a probe; the agent emits `probe` effects and the host's ProbePort runs them.
import type { CheckDefinition, ServiceDefinition } from './definitions.ts';
import type { LocalCheck } from './local-state.ts';

/** What the agent loads from -config-dir / -config-file. */
export interface Definitions {
  services: ServiceDefinition[];
  checks: CheckDefinition[];
}

export function toLocalCheck(def: CheckDefinition): LocalCheck {
  const p = def.probe;
  const base = {
    id: def.id,
    name: def.name,
    notes: def.notes,
    serviceId: def.serviceId,
    deregisterCriticalAfterMs: def.deregisterCriticalServiceAfterMs,
    // Consul starts every check critical until it has run (or its TTL was updated).
    status: def.status,
    output: '',
  };
  switch (p.type) {
    case 'http':
      return {
        ...base,
        type: 'http',
        spec: { type: 'http', url: p.url, method: p.method, header: p.header, timeoutMs: p.timeoutMs },
        intervalMs: p.intervalMs,
        ttlMs: 0,
      };
    case 'tcp':
      return { ...base, type: 'tcp', spec: { type: 'tcp', addr: p.address, timeoutMs: p.timeoutMs }, intervalMs: p.intervalMs, ttlMs: 0 };
    case 'script':
      return { ...base, type: 'script', spec: { type: 'script', args: p.args, timeoutMs: p.timeoutMs }, intervalMs: p.intervalMs, ttlMs: 0 };
    case 'ttl':
      return { ...base, type: 'ttl', spec: null, intervalMs: 0, ttlMs: p.ttlMs };
  }
}

/** A check the agent owns itself (maintenance mode): no probe, no TTL, status as given. */
export function agentOwnedCheck(id: string, name: string, notes: string, serviceId: string): CheckDefinition {
  return { id, name, notes, serviceId, status: 'critical', probe: { type: 'ttl', ttlMs: 0 }, deregisterCriticalServiceAfterMs: 0 };
}
