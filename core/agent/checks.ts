// core/agent/checks.ts — turning service/check definitions into runnable local checks.
//
// Owns: the mapping from a parsed definition to a LocalCheck (its probe spec, interval,
// timeout, initial status), and Consul's reserved check IDs and names.
// Must never: run a probe; the agent emits `probe` effects and the host's ProbePort runs them.
import type { HealthStatus } from '../catalog/types.ts';
import type { LocalCheck } from './local-state.ts';

/** The fields of a check definition the agent needs (from config files or HTTP). */
export interface CheckDef {
  id: string;
  name: string;
  notes?: string;
  serviceId?: string;
  http?: string;
  method?: string;
  header?: Record<string, string[]>;
  tcp?: string;
  ttlMs?: number;
  args?: string[];
  intervalMs?: number;
  timeoutMs?: number;
  status?: HealthStatus;
  deregisterCriticalAfterMs?: number;
}

/** Consul's default HTTP/TCP timeout: the interval, at most 10 s. Scripts: 30 s. */
export function defaultTimeoutMs(def: CheckDef): number {
  if (def.timeoutMs && def.timeoutMs > 0) return def.timeoutMs;
  if (def.args && def.args.length > 0) return 30_000;
  return Math.min(def.intervalMs ?? 10_000, 10_000);
}

export function toLocalCheck(def: CheckDef): LocalCheck {
  const timeoutMs = defaultTimeoutMs(def);
  let type = 'ttl';
  let spec: LocalCheck['spec'] = null;
  if (def.http) {
    type = 'http';
    spec = { type: 'http', url: def.http, method: def.method ?? 'GET', header: def.header ?? {}, timeoutMs };
  } else if (def.tcp) {
    type = 'tcp';
    spec = { type: 'tcp', addr: def.tcp, timeoutMs };
  } else if (def.args && def.args.length > 0) {
    type = 'script';
    spec = { type: 'script', args: def.args, timeoutMs };
  }
  return {
    id: def.id,
    name: def.name,
    notes: def.notes ?? '',
    serviceId: def.serviceId ?? '',
    spec,
    intervalMs: def.intervalMs ?? 0,
    ttlMs: def.ttlMs ?? 0,
    type,
    deregisterCriticalAfterMs: def.deregisterCriticalAfterMs ?? 0,
    // Consul starts every check critical until it has run (or its TTL was updated).
    status: def.status ?? 'critical',
    output: '',
  };
}

export interface ServiceDef {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  meta: Record<string, string>;
  enableTagOverride: boolean;
  checks: CheckDef[];
}

export interface Definitions {
  services: ServiceDef[];
  checks: CheckDef[];
}

