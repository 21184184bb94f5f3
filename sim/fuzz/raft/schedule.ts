// sim/fuzz/raft/schedule.ts — random Raft fault scenarios as plain data (what the fuzzer and the
// property tests run).
//
// Owns: the Scenario shape (cluster size, transport, Raft knobs, link, fault schedule) and a
// seeded generator for it. Faults are SimWorld `Fault`s plus cluster-level ones that pick
// their target when they fire (the current leader, the next voter), the two adversaries of
// adversary.ts (Figure 8; a split vote with a voter that crashes after voting), and
// single-server membership changes sent to the leader. Swarm testing: each seed first draws
// which fault kinds it uses (and how likely each is), so some seeds are all partitions, some
// all crashes, some all membership churn — corners a uniform mix would dilute.
// Must never: run anything; a scenario is JSON that replays exactly.
import type { Rng } from '../../../core/rng.ts';
import type { RaftConfig } from '../../../core/raft/node.ts';
import type { Fault, LinkConfig } from '../../world.ts';

export type ClusterFault =
  | Fault
  | { atMs: number; kind: 'crashLeader'; downMs: number }
  | { atMs: number; kind: 'isolateLeader'; forMs: number }
  /** The next server to grant a vote after atMs crashes right after sending it. */
  | { atMs: number; kind: 'crashAfterVote'; downMs: number }
  /** The next leader to get a proposal after atMs crashes after persisting it, before sending. */
  | { atMs: number; kind: 'crashLeaderBeforeSend'; downMs: number }
  /** Steer towards Figure 8 (see Figure8Adversary); each phase gives up after phaseMs. */
  | { atMs: number; kind: 'figure8'; phaseMs: number }
  /** The next election round gets a simultaneous rival; a third-party voter crashes after voting. */
  | { atMs: number; kind: 'splitVote'; downMs: number; windowMs: number; rounds: number }
  /** Membership: the leader removes a random other voter (only while ≥ 3 voters remain). */
  | { atMs: number; kind: 'removePeer' }
  /** Membership: the leader adds back a server missing from its peer set. */
  | { atMs: number; kind: 'addPeer' }
  /** A random server leaves gracefully (Consul 0.5); a follower is then removed by the leader. */
  | { atMs: number; kind: 'leave' };

export const FAULT_KINDS = [
  'partition',
  'partitionOneWay',
  'isolate',
  'heal',
  'link',
  'crashRestart',
  'crashLeader',
  'crashAtWorstMoment',
  'isolateLeaderOrStall',
  'figure8',
  'splitVote',
  'membership',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Scenario {
  servers: number;
  config: Partial<RaftConfig>;
  link: Partial<LinkConfig>;
  /** Client proposal interval (virtual ms). */
  proposeEveryMs: number;
  /** Faults happen in [0, chaosMs); then everything heals and liveness is measured. */
  chaosMs: number;
  faults: ClusterFault[];
  /** The fault kinds this seed's swarm drew, with their relative weights (for the report). */
  swarm?: Partial<Record<FaultKind, number>>;
}

export function serverIps(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function subset(rng: Rng, ips: string[], min: number, max: number): string[] {
  const k = rng.range(min, max);
  return rng.shuffle(ips).slice(0, k).sort();
}

export function randomScenario(rng: Rng): Scenario {
  const servers = rng.range(3, 5);
  const ips = serverIps(servers);
  const via = rng.chance(0.35) ? 'udp' : 'tcp';
  const config: Partial<RaftConfig> = {
    via,
    preVote: rng.chance(0.6),
    checkQuorum: rng.chance(0.6),
    maxAppendEntries: pick(rng, [1, 2, 4, 64]),
    maxInflight: pick(rng, [1, 2, 8]),
    snapshotThreshold: pick(rng, [5, 20, 8192]),
    trailingLogs: pick(rng, [0, 3, 50]),
  };
  // Tiny batches and windows cannot keep up with heavy loss and a fast client; such runs
  // only measure a backlog, so they get the milder loss rates.
  const smallPipe = config.maxAppendEntries! * config.maxInflight! < 4;
  const link: Partial<LinkConfig> = {
    latencyMs: { min: 1, max: pick(rng, [2, 5, 20]) },
    loss: via === 'udp' ? pick(rng, smallPipe ? [0, 0.01, 0.05] : [0, 0.01, 0.05, 0.2]) : 0,
    duplicate: via === 'udp' ? pick(rng, [0, 0.02, 0.1]) : 0,
    reorder: via === 'udp' ? pick(rng, [0, 0.05, 0.2]) : 0,
  };
  const chaosMs = 6000;
  const faults: ClusterFault[] = [];
  // Swarm: each kind is in this seed's mix with probability ½ and a weight 1–3.
  const swarm: Partial<Record<FaultKind, number>> = {};
  for (const k of FAULT_KINDS) if (rng.chance(0.5)) swarm[k] = rng.range(1, 3);
  if (Object.keys(swarm).length === 0) swarm.crashRestart = 1;
  const kinds = FAULT_KINDS.filter((k) => swarm[k] !== undefined);
  const total = kinds.reduce((a, k) => a + swarm[k]!, 0);
  const drawKind = (): FaultKind => {
    let x = rng.int(total);
    for (const k of kinds) {
      x -= swarm[k]!;
      if (x < 0) return k;
    }
    return kinds[kinds.length - 1]!;
  };
  // The Figure-8 adversary needs a few quiet seconds; when the swarm picked it, it runs once, early.
  if (swarm.figure8 !== undefined) faults.push({ atMs: rng.range(300, 1500), kind: 'figure8', phaseMs: 2500 });
  // The split-vote adversary waits for election rounds (which the other faults cause) and
  // works on up to `rounds` of them.
  if (swarm.splitVote !== undefined) faults.push({ atMs: rng.range(200, 1000), kind: 'splitVote', downMs: pick(rng, [1, 5, 20]), windowMs: 3000, rounds: 2 + 2 * swarm.splitVote });
  const n = rng.range(3, 14);
  for (let i = 0; i < n; i++) {
    const atMs = rng.range(200, chaosMs - 200);
    const k = drawKind();
    switch (k) {
      case 'partition': {
        const a = subset(rng, ips, 1, servers - 1);
        faults.push({ atMs, kind: 'partition', groups: [a, ips.filter((x) => !a.includes(x))] });
        break;
      }
      case 'partitionOneWay':
        faults.push({ atMs, kind: 'partitionOneWay', from: subset(rng, ips, 1, 2), to: subset(rng, ips, 1, 2) });
        break;
      case 'isolate':
        faults.push({ atMs, kind: 'isolate', ip: pick(rng, ips) });
        break;
      case 'heal':
        faults.push({ atMs, kind: 'heal' });
        break;
      case 'link': {
        const from = pick(rng, ips);
        const to = pick(rng, ips.filter((x) => x !== from));
        faults.push({ atMs, kind: 'link', from, to, cfg: { latencyMs: { min: 1, max: pick(rng, [5, 50, 300]) }, loss: via === 'udp' ? pick(rng, [0.1, 0.5]) : 0 } });
        break;
      }
      case 'crashRestart': {
        const ip = pick(rng, ips);
        faults.push({ atMs, kind: 'crash', ip });
        faults.push({ atMs: atMs + pick(rng, [1, 30, 300, 1500]), kind: 'restart', ip });
        break;
      }
      case 'crashLeader':
        faults.push({ atMs, kind: 'crashLeader', downMs: pick(rng, [1, 20, 200, 1000]) });
        break;
      case 'crashAtWorstMoment':
        if (rng.chance(0.5)) faults.push({ atMs, kind: 'crashAfterVote', downMs: pick(rng, [1, 5, 30]) });
        else faults.push({ atMs, kind: 'crashLeaderBeforeSend', downMs: pick(rng, [1, 20, 300]) });
        break;
      case 'isolateLeaderOrStall':
        if (rng.chance(0.5)) faults.push({ atMs, kind: 'isolateLeader', forMs: pick(rng, [300, 1000, 2500]) });
        else faults.push({ atMs, kind: 'stall', ip: pick(rng, ips), durationMs: pick(rng, [100, 700]) });
        break;
      case 'figure8':
        break;
      case 'splitVote':
        break;
      case 'membership': {
        // A server goes (removed, or leaves) and, usually, a missing one is added back later.
        faults.push({ atMs, kind: rng.chance(0.7) ? 'removePeer' : 'leave' });
        if (rng.chance(0.8)) faults.push({ atMs: Math.min(chaosMs - 100, atMs + pick(rng, [100, 600, 1500])), kind: 'addPeer' });
        break;
      }
    }
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return { servers, config, link, proposeEveryMs: pick(rng, [10, 30, 80]), chaosMs, faults, swarm };
}
