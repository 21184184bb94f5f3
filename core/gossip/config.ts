// core/gossip/config.ts — GossipConfig and memberlist/serf defaults per profile (LAN, WAN).
//
// Owns: the knobs of one gossip pool and filling them in from memberlist's DefaultLANConfig /
// DefaultWANConfig and serf's DefaultConfig (with Consul's 72 h reconnect timeout).
// Must never: hold behaviour; the machines read a ResolvedGossipConfig and nothing else.

export interface GossipConfig {
  /** Member name: the node name on LAN, `node.dc` on WAN. */
  name: string;
  ip: string;
  /** 8301 LAN, 8302 WAN. */
  port: number;
  tags: Record<string, string>;
  profile: 'lan' | 'wan';
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  indirectChecks?: number;
  suspicionMult?: number;
  suspicionMaxTimeoutMult?: number;
  retransmitMult?: number;
  gossipIntervalMs?: number;
  gossipNodes?: number;
  gossipToTheDeadTimeMs?: number;
  pushPullIntervalMs?: number;
  awarenessMaxMultiplier?: number;
  tcpTimeoutMs?: number;
  /** Largest datagram we ever emit (the host drops bigger ones). */
  udpBufferSize?: number;
  disableTcpPings?: boolean;
  /** false = plain SWIM: no nacks, no local-health scaling, fixed suspicion timeout (baseline). */
  lifeguard?: boolean;
  /** -rejoin: ignore a `leave` marker in the snapshot and rejoin previously known nodes. */
  rejoin?: boolean;
  reapIntervalMs?: number;
  reconnectIntervalMs?: number;
  reconnectTimeoutMs?: number;
  tombstoneTimeoutMs?: number;
  recentIntentTimeoutMs?: number;
  leavePropagateDelayMs?: number;
  /** Snapshot path relative to the data dir; default serf/local.snapshot (LAN), serf/remote.snapshot (WAN). */
  snapshotPath?: string;
}

export type ResolvedGossipConfig = Required<GossipConfig>;

const HOUR_MS = 3_600_000;

const PROFILES = {
  lan: {
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    gossipToTheDeadTimeMs: 30_000,
    pushPullIntervalMs: 30_000,
    tcpTimeoutMs: 10_000,
    snapshotPath: 'serf/local.snapshot',
  },
  wan: {
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    indirectChecks: 3,
    suspicionMult: 6,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadTimeMs: 60_000,
    pushPullIntervalMs: 60_000,
    tcpTimeoutMs: 30_000,
    snapshotPath: 'serf/remote.snapshot',
  },
} as const;

/** Fill in defaults; throws a clear error for values that would break the protocol. */
export function resolveGossipConfig(c: GossipConfig): ResolvedGossipConfig {
  const p = PROFILES[c.profile];
  if (!p) throw new Error(`gossip config: profile '${String(c.profile)}' is not 'lan' or 'wan'`);
  if (!c.name) throw new Error('gossip config: name is empty; pass the node name (LAN) or node.dc (WAN)');
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(c.ip)) throw new Error(`gossip config: ip '${c.ip}' is not a dotted IPv4 address`);
  if (!Number.isInteger(c.port) || c.port <= 0 || c.port > 65535) throw new Error(`gossip config: port ${c.port} is not 1..65535`);
  const r: ResolvedGossipConfig = {
    name: c.name,
    ip: c.ip,
    port: c.port,
    tags: { ...c.tags },
    profile: c.profile,
    probeIntervalMs: c.probeIntervalMs ?? p.probeIntervalMs,
    probeTimeoutMs: c.probeTimeoutMs ?? p.probeTimeoutMs,
    indirectChecks: c.indirectChecks ?? p.indirectChecks,
    suspicionMult: c.suspicionMult ?? p.suspicionMult,
    suspicionMaxTimeoutMult: c.suspicionMaxTimeoutMult ?? p.suspicionMaxTimeoutMult,
    retransmitMult: c.retransmitMult ?? p.retransmitMult,
    gossipIntervalMs: c.gossipIntervalMs ?? p.gossipIntervalMs,
    gossipNodes: c.gossipNodes ?? p.gossipNodes,
    gossipToTheDeadTimeMs: c.gossipToTheDeadTimeMs ?? p.gossipToTheDeadTimeMs,
    pushPullIntervalMs: c.pushPullIntervalMs ?? p.pushPullIntervalMs,
    awarenessMaxMultiplier: c.awarenessMaxMultiplier ?? 8,
    tcpTimeoutMs: c.tcpTimeoutMs ?? p.tcpTimeoutMs,
    udpBufferSize: c.udpBufferSize ?? 1400,
    disableTcpPings: c.disableTcpPings ?? false,
    lifeguard: c.lifeguard ?? true,
    rejoin: c.rejoin ?? false,
    reapIntervalMs: c.reapIntervalMs ?? 15_000,
    reconnectIntervalMs: c.reconnectIntervalMs ?? 30_000,
    reconnectTimeoutMs: c.reconnectTimeoutMs ?? 72 * HOUR_MS,
    tombstoneTimeoutMs: c.tombstoneTimeoutMs ?? 24 * HOUR_MS,
    recentIntentTimeoutMs: c.recentIntentTimeoutMs ?? 5 * 60_000,
    leavePropagateDelayMs: c.leavePropagateDelayMs ?? 1000,
    snapshotPath: c.snapshotPath ?? p.snapshotPath,
  };
  for (const k of ['probeIntervalMs', 'probeTimeoutMs', 'gossipIntervalMs', 'pushPullIntervalMs', 'reapIntervalMs', 'reconnectIntervalMs'] as const) {
    if (!(r[k] > 0)) throw new Error(`gossip config: ${k} must be > 0, got ${r[k]}`);
  }
  if (r.probeTimeoutMs > r.probeIntervalMs) {
    throw new Error(`gossip config: probeTimeoutMs ${r.probeTimeoutMs} exceeds probeIntervalMs ${r.probeIntervalMs}; the indirect probe would never run`);
  }
  if (r.udpBufferSize < 512) throw new Error(`gossip config: udpBufferSize ${r.udpBufferSize} is below 512 bytes`);
  return r;
}

/** memberlist/serf protocol versions we advertise: [pmin, pmax, pcur, dmin, dmax, dcur]. */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 5, 2, 2, 5, 4];
