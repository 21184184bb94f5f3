// core/agent/stats.ts — the sections `consul info` prints, from the agent's parts.
//
// Owns: building the agent/build/consul/raft/serf_lan/serf_wan/runtime maps with Consul's
// key names and value spellings.
// Must never: compute protocol state; it only reads what the parts report.
import type { AgentConfig } from './config.ts';
import type { LocalState } from './local-state.ts';

/** Facts about the process the core cannot know; the host supplies them. */
export interface RuntimeFacts {
  os: string;
  arch: string;
  version: string;
  cpuCount: number;
}

export interface StatsInput {
  cfg: AgentConfig;
  local: LocalState;
  raft: unknown | null;
  raftStats: Record<string, string> | null;
  lan: Record<string, string>;
  wan: Record<string, string> | null;
  isLeader: boolean;
  knownServers: number;
  runtime: RuntimeFacts;
  version: string;
  revision: string;
}

export function buildAgentStats(s: StatsInput): Record<string, Record<string, string>> {
  const checks = s.local.sortedChecks();
  const out: Record<string, Record<string, string>> = {
    agent: {
      check_monitors: String(checks.filter((c) => c.type === 'script').length),
      check_ttls: String(checks.filter((c) => c.type === 'ttl').length),
      checks: String(checks.length),
      services: String(s.local.services.size),
    },
    build: { prerelease: '', revision: s.revision, version: s.version },
    runtime: {
      arch: s.runtime.arch,
      cpu_count: String(s.runtime.cpuCount),
      goroutines: '0',
      max_procs: String(s.runtime.cpuCount),
      os: s.runtime.os,
      version: s.runtime.version,
    },
    serf_lan: s.lan,
  };
  if (s.cfg.server) {
    out.consul = {
      bootstrap: String(s.cfg.bootstrap),
      known_datacenters: '1',
      leader: String(s.isLeader),
      server: 'true',
    };
    if (s.raftStats) out.raft = s.raftStats;
    if (s.wan) out.serf_wan = s.wan;
  } else {
    out.consul = { known_servers: String(s.knownServers), server: 'false' };
  }
  return out;
}
