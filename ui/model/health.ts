// ui/model/health.ts — the API's health records as the UI reads them, and how instance
// health is summarised (worst check wins, as Consul's DNS and UI treat it).
//
// Owns: the JSON shapes the pages read (a subset of reference §2.7) and health arithmetic.
// Must never: fetch or render.

export type HealthStatus = 'passing' | 'warning' | 'critical';

export interface Check {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
}

export interface CatalogNode {
  Node: string;
  Address: string;
  Datacenter?: string;
}

export interface NodeService {
  ID: string;
  Service: string;
  Tags: string[] | null;
  Address: string;
  Port: number;
}

export interface HealthInstance {
  Node: CatalogNode;
  Service: NodeService;
  Checks: Check[];
}

export interface Member {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
}

const RANK: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

/** Unknown statuses (e.g. "maintenance") count as critical: never show an odd state as healthy. */
export function normalStatus(s: string): HealthStatus {
  return s === 'passing' || s === 'warning' ? s : 'critical';
}

/** Worst of the given statuses; no checks at all is passing (Consul's rule). */
export function worstStatus(statuses: readonly string[]): HealthStatus {
  let worst: HealthStatus = 'passing';
  for (const s of statuses) {
    const n = normalStatus(s);
    if (RANK[n] > RANK[worst]) worst = n;
  }
  return worst;
}

export function instanceStatus(i: HealthInstance): HealthStatus {
  return worstStatus(i.Checks.map((c) => c.Status));
}

export interface HealthCounts {
  passing: number;
  warning: number;
  critical: number;
}

export function countByHealth(instances: readonly HealthInstance[]): HealthCounts {
  const out: HealthCounts = { passing: 0, warning: 0, critical: 0 };
  for (const i of instances) out[instanceStatus(i)]++;
  return out;
}

/** Consul's member Status numbers (reference §2.7). */
export function memberStatusName(code: number): string {
  return ['none', 'alive', 'leaving', 'left', 'failed'][code] ?? `unknown (${code})`;
}

/** Where clients connect to an instance: the service address, else the node's. */
export function instanceAddress(i: HealthInstance): string {
  return `${i.Service.Address || i.Node.Address}:${i.Service.Port}`;
}
