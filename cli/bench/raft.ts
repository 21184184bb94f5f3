// cli/bench/raft.ts — `muster bench raft`: Raft throughput, failover and stability in the simulator.
//
// Owns: three measurements in virtual time, each beside a baseline from the same run:
//   commits/s (3 and 5 servers, 64 closed-loop clients, 2 virtual s) vs. the same cluster without batching
//   or pipelining; leader failover over 100 seeds vs. Consul 0.5's timings (1 s heartbeat
//   timeout); spurious elections over 60 virtual seconds at 5 % datagram loss.
// Ends with one JSON line. Never fails on a figure (exit 0 unless the run itself breaks).
import { defaultRaftConfig, type RaftConfig } from '../../core/raft/node.ts';
import { RaftCluster } from '../../sim/raft/cluster.ts';

function commitsPerSecond(servers: number, config: Partial<RaftConfig>, seed: string): number {
  const c = new RaftCluster({ seed, servers, config, link: { latencyMs: { min: 0.2, max: 0.5 } } });
  c.startAll();
  c.world.runUntilTrue(() => c.leader() !== null && c.leader()![1].commitIndex > 0, 10_000);
  const clients = 64;
  const windowMs = 2_000;
  const start = c.world.nowMs();
  const end = start + windowMs;
  let acked = 0;
  c.onResult = (p) => {
    if (p.ok && c.world.nowMs() <= end) acked++;
    if (c.world.nowMs() < end) c.world.schedule(c.world.nowMs(), 'client.next', () => c.propose());
  };
  for (let i = 0; i < clients; i++) c.propose();
  c.world.runUntil(end);
  return acked / (windowMs / 1000);
}

function failoverMs(seed: string, config: Partial<RaftConfig>): number | null {
  const c = new RaftCluster({ seed, servers: 3, config });
  c.startAll();
  if (!c.world.runUntilTrue(() => c.leader() !== null, 20_000)) return null;
  c.world.runFor(1_000 + c.world.rng.int(500));
  const [id, old] = c.leader()!;
  const term = old.term;
  const crashAt = c.world.nowMs();
  c.world.host(c.server(id).ip).crash();
  const ok = c.world.runUntilTrue(() => {
    const l = c.leader();
    return l !== null && l[1].term > term;
  }, 60_000);
  return ok ? c.world.nowMs() - crashAt : null;
}

function spuriousElections(seed: string, config: Partial<RaftConfig>, windowMs: number): number {
  const c = new RaftCluster({ seed, servers: 3, config: { ...config, via: 'udp' }, link: { loss: 0.05 } });
  c.startAll();
  c.world.runUntilTrue(() => c.leader() !== null, 20_000);
  c.world.runFor(1_000);
  const before = c.elections;
  c.workload(50, c.world.nowMs() + windowMs);
  c.world.runFor(windowMs);
  return c.elections - before;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function benchRaft(args: string[]): Promise<number> {
  const seeds = Number(args[args.indexOf('--seeds') + 1]) || 100;
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const noPipe: Partial<RaftConfig> = { maxAppendEntries: 1, maxInflight: 1 };

  const c3 = commitsPerSecond(3, {}, 'bench-3');
  const c3base = commitsPerSecond(3, noPipe, 'bench-3');
  const c5 = commitsPerSecond(5, {}, 'bench-5');
  const c5base = commitsPerSecond(5, noPipe, 'bench-5');
  out(`commits/s, 3 servers: ${c3.toFixed(0)} (baseline without batching/pipelining ${c3base.toFixed(0)}; ×${(c3 / c3base).toFixed(2)})`);
  out(`commits/s, 5 servers: ${c5.toFixed(0)} (baseline without batching/pipelining ${c5base.toFixed(0)}; ×${(c5 / c5base).toFixed(2)})`);

  const consul05: Partial<RaftConfig> = { electionTimeoutMs: 1000, heartbeatIntervalMs: 100, leaderLeaseMs: 500 };
  const ours: number[] = [];
  const theirs: number[] = [];
  let missing = 0;
  for (let i = 0; i < seeds; i++) {
    const a = failoverMs(`failover-${i}`, {});
    const b = failoverMs(`failover-${i}`, consul05);
    if (a === null || b === null) missing++;
    if (a !== null) ours.push(a);
    if (b !== null) theirs.push(b);
  }
  const med = pct(ours, 50);
  const p99 = pct(ours, 99);
  out(`leader failover over ${seeds} seeds (virtual ms): median ${med.toFixed(0)}, p99 ${p99.toFixed(0)}, max ${Math.max(...ours).toFixed(0)}` +
    ` (Consul 0.5 timings: median ${pct(theirs, 50).toFixed(0)}, p99 ${pct(theirs, 99).toFixed(0)}; ×${(pct(theirs, 50) / med).toFixed(2)} faster)` +
    (missing ? `; ${missing} runs without a new leader` : ''));

  const windowMs = 60_000;
  const spurious = spuriousElections('steady-5pct', defaultRaftConfig('x:1'), windowMs);
  const spuriousBase = spuriousElections('steady-5pct', { ...defaultRaftConfig('x:1'), electionTimeoutMs: 100, heartbeatIntervalMs: 60, preVote: false, checkQuorum: false }, windowMs);
  out(`spurious elections over ${windowMs / 1000} s at 5% datagram loss: ${spurious} (baseline: 100 ms timeout, 60 ms heartbeat, no PreVote/CheckQuorum: ${spuriousBase})`);

  out(JSON.stringify({
    commits_per_s_3: Math.round(c3),
    commits_per_s_5: Math.round(c5),
    failover_ms_median: Math.round(med),
    failover_ms_p99: Math.round(p99),
    spurious_elections_at_5pct_loss: spurious,
    baseline: { commits_per_s_3_no_pipeline: Math.round(c3base), commits_per_s_5_no_pipeline: Math.round(c5base), failover_ms_median_consul05: Math.round(pct(theirs, 50)), spurious_elections_short_timeout: spuriousBase },
  }));
  return 0;
}
