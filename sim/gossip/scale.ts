// sim/gossip/scale.ts — gossip measurements at scale in the simulator (shared by tests and the bench).
//
// Owns: building an N-node pool, and measuring join dissemination rounds, crash detection
// (first member / every member), and false failures / false suspicions of healthy nodes under
// loss and with stalling nodes on a StallPlan (Lifeguard's slow-node case);
// plus what memberlist's defaults and the SWIM/Lifeguard papers predict for the same N.
// Must never: read real time; every figure is virtual time from the SimWorld.
import { resolveGossipConfig, type GossipConfig } from '../../core/gossip/config.ts';
import { suspicionTimeoutMs } from '../../core/gossip/math.ts';
import { GossipCluster, type RecordedEvent } from './cluster.ts';

export interface ScaleCluster {
  c: GossipCluster;
  /** Nodes in the pool (a spare extra node exists for the join measurement). */
  n: number;
  buildMs: number;
}

/** Start n nodes (plus one spare, not started), each joining a random earlier node; wait until every
 *  node sees all n alive. Throws with the seed if that does not happen. */
export function buildPool(opts: { n: number; seed: string; loss?: number; config?: Partial<GossipConfig> }): ScaleCluster {
  const c = new GossipCluster({ seed: opts.seed, nodes: opts.n + 1, config: opts.config, link: { loss: 0, latencyMs: { min: 1, max: 5 } } });
  c.recordEvents = false;
  const n = opts.n;
  const staggerMs = 10;
  for (let i = 0; i < n; i++) {
    c.world.schedule(i * staggerMs, 'bench.start', () => {
      c.start(i);
      if (i > 0) c.join(i, [c.node(c.world.rng.int(i)).ip]);
    });
  }
  const t0 = c.world.nowMs();
  let lastCheck = -Infinity;
  const complete = (): boolean => {
    const now = c.world.nowMs();
    if (now < n * staggerMs || now - lastCheck < 100) return false;
    lastCheck = now;
    return poolComplete(c, n);
  };
  const ok = c.world.runUntilTrue(complete, n * staggerMs + 300_000);
  if (!ok) throw new Error(`gossip pool of ${n} did not converge within 300 s of virtual time (seed ${opts.seed})`);
  if (opts.loss) c.world.net.setDefaultLink({ loss: opts.loss });
  return { c, n, buildMs: c.world.nowMs() - t0 };
}

/** Every node among the first n knows n members, none failed or left. */
function poolComplete(c: GossipCluster, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const s = c.nodes[i]!.serf;
    if (!s) return false;
    const st = s.stats();
    if (st.members !== String(n) || st.failed !== '0' || st.left !== '0') return false;
  }
  return true;
}

/** Start the spare node, join it to node 0, and count gossip rounds until all n know it. */
export function measureJoinRounds(p: ScaleCluster): { ms: number; rounds: number } {
  const { c, n } = p;
  const spare = c.nodes[n]!;
  let seen = 0;
  const prev = c.onEvent;
  c.onEvent = (e: RecordedEvent) => {
    if (e.type === 'join' && e.member === spare.name && e.at !== spare.name) seen++;
  };
  const t0 = c.world.nowMs();
  c.start(n);
  c.join(n, [c.node(0).ip]);
  c.world.runUntilTrue(() => seen >= n, 120_000);
  c.onEvent = prev;
  const ms = c.world.nowMs() - t0;
  const interval = resolveGossipConfig(spare.config).gossipIntervalMs;
  return { ms, rounds: ms / interval };
}

/** Crash `count` random non-seed nodes one after another; time until the first and until every other
 *  running node marks each failed. */
export function measureDetection(p: ScaleCluster, count: number): { firstMs: number[]; allMs: number[] } {
  const { c } = p;
  const firstMs: number[] = [];
  const allMs: number[] = [];
  for (let k = 0; k < count; k++) {
    const running = c.nodes.filter((x) => c.isRunning(x.index) && x.index !== 0);
    const victim = running[c.world.rng.int(running.length)]!;
    const watchers = c.nodes.filter((x) => c.isRunning(x.index) && x !== victim).length;
    let first = -1;
    let count2 = 0;
    const t0 = c.world.nowMs();
    c.onEvent = (e) => {
      if (e.type === 'failed' && e.member === victim.name) {
        if (first < 0) first = c.world.nowMs() - t0;
        count2++;
      }
    };
    c.crash(victim.index);
    c.world.runUntilTrue(() => count2 >= watchers, 300_000);
    c.onEvent = null;
    firstMs.push(first);
    allMs.push(count2 >= watchers ? c.world.nowMs() - t0 : Infinity);
    c.world.runFor(2000);
  }
  return { firstMs, allMs };
}

/** CPU stalls for Lifeguard's slow-node case: each node in `indices` stalls for a random
 *  stallMs ∈ [min, max], runs for a random gapMs ∈ [min, max] after it, and stalls again. A gap of a
 *  few ms is a starved process that gets a short slice now and then; a gap of seconds is a process
 *  with periodic pauses (GC, swapping). While stalled a host runs nothing; on resume it runs its
 *  expired timers before its held reads (sim/kernel.ts), like a real event loop. */
export interface StallPlan {
  indices: number[];
  stallMs: [number, number];
  gapMs: [number, number];
}

export interface FalseFailureFigures {
  /** 'failed' events (at any member) about nodes that were healthy: running and never stalled. */
  falseFailures: number;
  /** 'failed' events about the stalling nodes themselves (slow, not crashed). */
  aboutStalled: number;
  /** Suspicions raised by a failed probe (at any member) of a healthy node. */
  falseSuspicions: number;
  /** Of those, raised by a stalling node. */
  falseSuspicionsByStalled: number;
  refutes: number;
  /** Number of stalls injected. */
  stalls: number;
}

/** Run `durationMs` and count false failures and false suspicions of healthy nodes, optionally
 *  with some nodes stalling on `stall`'s schedule (Lifeguard's slow-node case). */
export function measureFalseFailures(p: ScaleCluster, durationMs: number, stall?: StallPlan): FalseFailureFigures {
  const { c } = p;
  let falseFailures = 0;
  let aboutStalled = 0;
  let stalls = 0;
  const stalled = new Set((stall?.indices ?? []).map((i) => c.node(i).name));
  const crashed = new Set(c.nodes.filter((x) => !c.isRunning(x.index)).map((x) => x.name));
  c.onEvent = (e) => {
    if (e.type !== 'failed' || crashed.has(e.member)) return;
    if (stalled.has(e.member)) aboutStalled++;
    else falseFailures++;
  };
  const refutesBefore = sumRefutes(c);
  const raisedBefore = raisedAboutHealthy(c, stalled, crashed);
  const end = c.world.nowMs() + durationMs;
  if (stall) {
    const rng = c.world.rng.fork('bench.stall');
    const between = (r: [number, number]): number => r[0] + rng.int(r[1] - r[0] + 1);
    for (const i of stall.indices) {
      const name = c.node(i).name;
      const cycle = (): void => {
        if (c.world.nowMs() >= end) return;
        const d = between(stall.stallMs);
        c.stall(i, d);
        stalls++;
        c.world.schedule(c.world.nowMs() + d + between(stall.gapMs), `bench.stall ${name}`, cycle);
      };
      c.world.schedule(c.world.nowMs() + 1000 + rng.int(1000), `bench.stall ${name}`, cycle);
    }
  }
  c.world.runFor(durationMs);
  c.onEvent = null;
  const raised = raisedAboutHealthy(c, stalled, crashed);
  return {
    falseFailures,
    aboutStalled,
    falseSuspicions: raised.all - raisedBefore.all,
    falseSuspicionsByStalled: raised.byStalled - raisedBefore.byStalled,
    refutes: sumRefutes(c) - refutesBefore,
    stalls,
  };
}

function raisedAboutHealthy(c: GossipCluster, stalled: Set<string>, crashed: Set<string>): { all: number; byStalled: number } {
  let all = 0;
  let byStalled = 0;
  for (const n of c.nodes) {
    for (const [target, count] of n.serf?.ml.suspectsRaised ?? []) {
      if (stalled.has(target) || crashed.has(target)) continue;
      all += count;
      if (stalled.has(n.name)) byStalled += count;
    }
  }
  return { all, byStalled };
}

function sumRefutes(c: GossipCluster): number {
  let s = 0;
  for (const n of c.nodes) s += n.serf?.ml.counters.refutes ?? 0;
  return s;
}

/** What memberlist's defaults and the papers predict for n nodes. */
export function predictions(n: number, config: Partial<GossipConfig> = {}): {
  swimFirstProbePeriods: number;
  suspicionMinMs: number;
  suspicionMaxMs: number;
  memberlistDetectMs: number;
  logRounds: number;
} {
  const cfg = resolveGossipConfig({ name: 'x', ip: '10.0.0.1', port: 8301, tags: {}, profile: 'lan', ...config });
  const swimFirstProbePeriods = 1 / (1 - Math.exp(-1)); // e/(e−1): expected periods until someone probes the dead node
  const minMs = suspicionTimeoutMs(cfg.suspicionMult, n, cfg.probeIntervalMs);
  // memberlist defaults: first probe of the dead node + one probe period to give up + the suspicion
  // timeout once k = SuspicionMult − 2 peers have confirmed (Lifeguard's floor).
  const memberlistDetectMs = Math.round((swimFirstProbePeriods + 1) * cfg.probeIntervalMs + minMs);
  return {
    swimFirstProbePeriods,
    suspicionMinMs: minMs,
    suspicionMaxMs: minMs * cfg.suspicionMaxTimeoutMult,
    memberlistDetectMs,
    logRounds: Math.log(n) / Math.log(cfg.gossipNodes),
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
