// core/dns/config.ts — the DNS interface's settings, with Consul's defaults and names.
//
// Owns: DnsConfig, its defaults (domain 'consul.', TTL 0, udp_answer_limit 3, no TC bit,
// only_passing false, no recursors) and validation with errors that say what to fix.
// Must never: read files or flags; the agent's config loader maps `dns_config` onto this.

export interface DnsConfig {
  /** Served zone, lowercase with the trailing dot (Consul `-domain`, default 'consul.'). */
  domain: string;
  /** TTL of node lookups (Consul `dns_config.node_ttl`, default 0). */
  nodeTtlS: number;
  /** Service name → TTL; '*' is the fallback (Consul `dns_config.service_ttl`). */
  serviceTtlS: Record<string, number>;
  /** Answers in a UDP reply to a query without EDNS (Consul `udp_answer_limit`, default 3). */
  udpAnswerLimit: number;
  /** Set the TC bit when a UDP reply was trimmed (Consul `enable_truncate`, default false). */
  enableTruncate: boolean;
  /** Leave out instances with warning checks too (Consul `only_passing`, default false). */
  onlyPassing: boolean;
  /** Upstream servers for names outside `domain` ('ip:port'); [] ⇒ no recursion. */
  recursors: string[];
}

export const DEFAULT_DNS_CONFIG: Readonly<DnsConfig> = Object.freeze({
  domain: 'consul.',
  nodeTtlS: 0,
  serviceTtlS: Object.freeze({}) as Record<string, number>,
  udpAnswerLimit: 3,
  enableTruncate: false,
  onlyPassing: false,
  recursors: Object.freeze([]) as unknown as string[],
});

const LABEL = /^[a-z0-9]([a-z0-9-_]{0,61}[a-z0-9_])?$/;

/** Normalises a domain: lowercase, exactly one trailing dot. Throws on a bad one. */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.+$/, '');
  if (d === '') throw new Error(`dns domain '${domain}' is empty; use something like 'consul.'`);
  for (const label of d.split('.')) {
    if (!LABEL.test(label)) {
      throw new Error(`dns domain '${domain}' has a bad label '${label}'; labels are 1-63 of [a-z0-9-_], e.g. 'consul.'`);
    }
  }
  if (d.length > 200) throw new Error(`dns domain '${domain}' is too long; keep it under 200 characters`);
  return `${d}.`;
}

function ttl(where: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new Error(`${where} is ${v}; a TTL is a whole number of seconds from 0 to 2147483647`);
  }
  return v;
}

/** Defaults overlaid with `partial`, validated. */
export function makeDnsConfig(partial: Partial<DnsConfig> = {}): DnsConfig {
  const c = { ...DEFAULT_DNS_CONFIG, ...partial };
  const serviceTtlS: Record<string, number> = {};
  for (const [name, v] of Object.entries(c.serviceTtlS)) serviceTtlS[name.toLowerCase()] = ttl(`dns service_ttl for '${name}'`, v);
  if (!Number.isInteger(c.udpAnswerLimit) || c.udpAnswerLimit < 1) {
    throw new Error(`dns udp_answer_limit is ${c.udpAnswerLimit}; it must be a positive whole number (Consul's default is 3)`);
  }
  for (const r of c.recursors) {
    if (!/^[^\s:]+:\d{1,5}$/.test(r) && !/^[^\s:]+$/.test(r)) {
      throw new Error(`dns recursor '${r}' is not 'ip' or 'ip:port'`);
    }
  }
  return {
    domain: normalizeDomain(c.domain),
    nodeTtlS: ttl('dns node_ttl', c.nodeTtlS),
    serviceTtlS,
    udpAnswerLimit: c.udpAnswerLimit,
    enableTruncate: Boolean(c.enableTruncate),
    onlyPassing: Boolean(c.onlyPassing),
    recursors: [...c.recursors],
  };
}

export function serviceTtlFor(config: DnsConfig, service: string): number {
  return config.serviceTtlS[service] ?? config.serviceTtlS[service.toLowerCase()] ?? config.serviceTtlS['*'] ?? 0;
}
