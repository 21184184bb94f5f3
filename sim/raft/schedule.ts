// sim/raft/schedule.ts — random Raft fault scenarios as plain data (what the fuzzer and the
// property tests run).
//
// Owns: the Scenario shape (cluster size, transport, Raft knobs, link, fault schedule) and a
// seeded generator for it. Faults are SimWorld `Fault`s plus two cluster-level ones that pick
// their target when they fire (the current leader), which reach the interesting Raft corners
// (Figure 8, votes lost in a crash) far more often than blind host choices.
// Must never: run anything; a scenario is JSON that replays exactly.
import type { Rng } from '../../core/rng.ts';
import type { RaftConfig } from '../../core/raft/node.ts';
import type { Fault, LinkConfig } from '../world.ts';

export type ClusterFault =
  | Fault
  | { atMs: number; kind: 'crashLeader'; downMs: number }
  | { atMs: number; kind: 'isolateLeader'; forMs: number }
  /** The next server to grant a vote after atMs crashes right after sending it. */
  | { atMs: number; kind: 'crashAfterVote'; downMs: number }
  /** The next leader to get a proposal after atMs crashes after persisting it, before sending. */
  | { atMs: number; kind: 'crashLeaderBeforeSend'; downMs: number };

export interface Scenario {
  servers: number;
  config: Partial<RaftConfig>;
  link: Partial<LinkConfig>;
  /** Client proposal interval (virtual ms). */
  proposeEveryMs: number;
  /** Faults happen in [0, chaosMs); then everything heals and liveness is measured. */
  chaosMs: number;
  faults: ClusterFault[];
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
  const n = rng.range(3, 14);
  for (let i = 0; i < n; i++) {
    const atMs = rng.range(200, chaosMs - 200);
    const k = rng.int(10);
    switch (k) {
      case 0: {
        const a = subset(rng, ips, 1, servers - 1);
        faults.push({ atMs, kind: 'partition', groups: [a, ips.filter((x) => !a.includes(x))] });
        break;
      }
      case 1:
        faults.push({ atMs, kind: 'partitionOneWay', from: subset(rng, ips, 1, 2), to: subset(rng, ips, 1, 2) });
        break;
      case 2:
        faults.push({ atMs, kind: 'isolate', ip: pick(rng, ips) });
        break;
      case 3:
        faults.push({ atMs, kind: 'heal' });
        break;
      case 4: {
        const from = pick(rng, ips);
        const to = pick(rng, ips.filter((x) => x !== from));
        faults.push({ atMs, kind: 'link', from, to, cfg: { latencyMs: { min: 1, max: pick(rng, [5, 50, 300]) }, loss: via === 'udp' ? pick(rng, [0.1, 0.5]) : 0 } });
        break;
      }
      case 5:
      case 6: {
        const ip = pick(rng, ips);
        faults.push({ atMs, kind: 'crash', ip });
        faults.push({ atMs: atMs + pick(rng, [1, 30, 300, 1500]), kind: 'restart', ip });
        break;
      }
      case 7:
        faults.push({ atMs, kind: 'crashLeader', downMs: pick(rng, [1, 20, 200, 1000]) });
        break;
      case 8:
        if (rng.chance(0.5)) faults.push({ atMs, kind: 'crashAfterVote', downMs: pick(rng, [1, 5, 30]) });
        else faults.push({ atMs, kind: 'crashLeaderBeforeSend', downMs: pick(rng, [1, 20, 300]) });
        break;
      case 9:
        if (rng.chance(0.5)) faults.push({ atMs, kind: 'isolateLeader', forMs: pick(rng, [300, 1000, 2500]) });
        else faults.push({ atMs, kind: 'stall', ip: pick(rng, ips), durationMs: pick(rng, [100, 700]) });
        break;
    }
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return { servers, config, link, proposeEveryMs: pick(rng, [10, 30, 80]), chaosMs, faults };
}
