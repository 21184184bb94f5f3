// sim/fuzz/cluster/arbitrary.ts — fast-check arbitraries for cluster fuzz cases (swarm testing).
//
// Owns: drawing, per seed, a swarm configuration (which fault kinds are on and how often, the
// base link, PreVote, the clients' pace, concurrency, timeouts and key contention) and then a
// fault schedule and a workload under it, all as data (shrink.ts shrinks such a case with
// fast-check). Clock jumps are not among the faults (SimWorld has no per-node clock to skew),
// except the adversaries' early election timeouts (adversary.ts).
// Must never: run the simulation; `caseForSeed` is the one way a seed becomes a case, so the
// campaign, the shrinker and a replay all agree on it.
import fc from 'fast-check';
import type { BugName } from './bugs.ts';
import {
  CASE_VERSION,
  FAULT_KINDS,
  LEADER,
  nodeNames,
  type ClientOp,
  type ClusterCase,
  type FaultKind,
  type FuzzFault,
  type Step,
  type SwarmLink,
} from './case.ts';

export interface CaseOptions {
  servers: number;
  clients: number;
  /** Virtual ms of the safety phase (faults + workload). */
  chaosMs: number;
  bug?: BugName;
}

export const REGISTER_KEYS = ['x0', 'x1', 'x2'];
export const LOCK_KEYS = ['lock/a'];
export const SERVICES = ['web', 'api'];

/** Faults of one kind per 10 s of chaos: 0 switches the kind off for this seed. */
const rateArb = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) });

interface Swarm {
  rates: Record<FaultKind, number>;
  link: SwarmLink;
  via: 'tcp' | 'udp';
  preVote: boolean;
  maxAppendEntries: number;
  meanGapMs: number;
  keys: number;
  workers: number;
  clientTimeoutMs: number;
}

const swarmArb: fc.Arbitrary<Swarm> = fc.record({
  rates: fc.record(Object.fromEntries(FAULT_KINDS.map((k) => [k, rateArb])) as Record<FaultKind, typeof rateArb>),
  link: fc.record({
    latencyMaxMs: fc.constantFrom(2, 5, 20),
    loss: fc.constantFrom(0, 0, 0.01, 0.05, 0.2),
    duplicate: fc.constantFrom(0, 0.02, 0.1),
    reorder: fc.constantFrom(0, 0.05, 0.2),
  }),
  // Consul's Raft runs over TCP. (RaftConfig.via 'udp' would expose Raft itself to loss and
  // reordering, but the agent serves Raft on its TCP server port only.)
  via: fc.constant<'tcp' | 'udp'>('tcp'),
  preVote: fc.constantFrom(true, true, false),
  // One entry per append (two thirds of the seeds) lets a catching-up follower hold an
  // old-term entry before the new leader's no-op reaches it: the Figure-8 corner. 64 is the
  // default (the other third: batching).
  maxAppendEntries: fc.constantFrom(1, 1, 64),
  meanGapMs: fc.constantFrom(5, 30, 100, 250),
  // Fewer keys, more contention: more chances for two clients to disagree about one value.
  keys: fc.integer({ min: 1, max: REGISTER_KEYS.length }),
  workers: fc.constantFrom(1, 2, 3),
  // Short timeouts keep clients busy through a fault (and leave more outcomes unknown).
  clientTimeoutMs: fc.constantFrom(500, 2000, 15_000),
});

function faultArb(kind: FaultKind, o: CaseOptions): fc.Arbitrary<FuzzFault> {
  const names = nodeNames(o);
  const servers = names.filter((n) => n.startsWith('s'));
  const at = fc.integer({ min: 0, max: Math.max(0, o.chaosMs - 1) });
  const target = fc.constantFrom(LEADER, ...servers, ...names);
  const forMs = fc.integer({ min: 50, max: 5000 });
  const downMs = fc.integer({ min: 0, max: 4000 });
  const nodes = fc.subarray(names, { minLength: 1 });
  switch (kind) {
    case 'partition':
      // Each node's side; everything on side 0 is no partition at all (the shrink target).
      return fc.record({ atMs: at, sides: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: names.length, maxLength: names.length }), forMs }).map(({ atMs, sides, forMs }) => {
        const groups = [0, 1, 2].map((g) => names.filter((_, i) => sides[i] === g)).filter((g) => g.length > 0);
        return { atMs, kind: 'partition', groups, forMs };
      });
    case 'oneWay':
      return fc.record({ atMs: at, from: nodes, to: nodes, forMs }).map((r) => ({ kind: 'oneWay', ...r }));
    case 'isolate':
      return fc.record({ atMs: at, node: target, forMs }).map((r) => ({ kind: 'isolate', ...r }));
    case 'splitLeader':
      return fc.record({ atMs: at, forMs }).map((r) => ({ kind: 'splitLeader', ...r }));
    case 'crash':
    case 'restart':
    case 'leave':
      return fc.record({ atMs: at, node: target, downMs }).map((r) => ({ kind, ...r }));
    case 'stall':
      return fc.record({ atMs: at, node: target, forMs: fc.integer({ min: 50, max: 2000 }) }).map((r) => ({ kind: 'stall', ...r }));
    case 'link':
      return fc
        .record({
          atMs: at,
          from: fc.constantFrom(...names),
          to: fc.constantFrom(...names),
          latencyMaxMs: fc.constantFrom(50, 200, 1000),
          loss: fc.constantFrom(0, 0.3, 1),
          forMs,
        })
        .map((r) => ({ kind: 'link', ...r }));
    case 'crashAfterVote':
      return fc.record({ atMs: at, downMs: fc.integer({ min: 0, max: 500 }) }).map((r) => ({ kind: 'crashAfterVote', ...r }));
    case 'depose':
      return fc.record({ atMs: at, forMs: fc.integer({ min: 1000, max: 8000 }) }).map((r) => ({ kind: 'depose', ...r }));
    case 'figure8':
      return fc.record({ atMs: at, phaseMs: fc.integer({ min: 1000, max: 5000 }) }).map((r) => ({ kind: 'figure8', ...r }));
    case 'splitVote':
      return fc.record({ atMs: at }).map((r) => ({ kind: 'splitVote', ...r }));
  }
}

const modeArb = fc.constantFrom<'default' | 'consistent' | 'stale'>('default', 'default', 'consistent', 'stale');
const svc = fc.constantFrom(...SERVICES);
const opArbFor = (keys: number): fc.Arbitrary<ClientOp> => {
  const key = fc.constantFrom(...REGISTER_KEYS.slice(0, keys));
  return fc.oneof(
  { weight: 25, arbitrary: key.map((k): ClientOp => ({ k: 'put', key: k })) },
  { weight: 30, arbitrary: fc.record({ key, mode: modeArb }).map((r): ClientOp => ({ k: 'get', ...r })) },
  { weight: 10, arbitrary: fc.record({ key, mode: modeArb }).map((r): ClientOp => ({ k: 'cas', ...r })) },
  { weight: 3, arbitrary: key.map((k): ClientOp => ({ k: 'del', key: k })) },
  { weight: 12, arbitrary: fc.record({ key: fc.constantFrom(...LOCK_KEYS), holdMs: fc.integer({ min: 0, max: 500 }) }).map((r): ClientOp => ({ k: 'lock', ...r })) },
  { weight: 5, arbitrary: svc.map((s): ClientOp => ({ k: 'register', svc: s })) },
  { weight: 2, arbitrary: svc.map((s): ClientOp => ({ k: 'deregister', svc: s })) },
  { weight: 8, arbitrary: fc.record({ svc, mode: fc.constantFrom<'default' | 'stale'>('default', 'stale') }).map((r): ClientOp => ({ k: 'health', ...r })) },
  );
};

export function caseArbitrary(o: CaseOptions, worldSeed: string): fc.Arbitrary<ClusterCase> {
  // Unbiased: fast-check's bias towards tiny values makes sense for finding edge cases in
  // functions, but here it would mostly produce idle clients and empty schedules.
  return fc.noBias(swarmArb.chain((sw) => {
    const perKind = FAULT_KINDS.map((kind) => {
      const max = Math.ceil((sw.rates[kind] * o.chaosMs) / 10_000);
      return max === 0 ? fc.constant<FuzzFault[]>([]) : fc.array(faultArb(kind, o), { maxLength: max, size: 'max' });
    });
    const maxOps = Math.min(600 * sw.workers, Math.ceil((o.chaosMs / sw.meanGapMs) * sw.workers));
    const stepArb: fc.Arbitrary<Step> = fc.record({ gapMs: fc.integer({ min: 0, max: 2 * sw.meanGapMs }), op: opArbFor(sw.keys) });
    const workload = fc.tuple(...Array.from({ length: o.clients }, () => fc.array(stepArb, { maxLength: maxOps, size: 'max' })));
    return fc.record({ faults: fc.tuple(...perKind), workload }).map(({ faults, workload }): ClusterCase => {
      const all = faults.flat().sort((a, b) => a.atMs - b.atMs);
      return {
        version: CASE_VERSION,
        seed: worldSeed,
        servers: o.servers,
        clients: o.clients,
        ...(o.bug ? { bug: o.bug } : {}),
        raft: { via: sw.via, preVote: sw.preVote, ...(sw.maxAppendEntries === 64 ? {} : { maxAppendEntries: sw.maxAppendEntries }) },
        link: sw.link,
        swarm: FAULT_KINDS.filter((k) => sw.rates[k] > 0),
        chaosMs: o.chaosMs,
        faults: all,
        workload: workload as Step[][],
        workers: sw.workers,
        clientTimeoutMs: sw.clientTimeoutMs,
      };
    });
  }));
}

export const worldSeedFor = (seed: number): string => `cluster/${seed}`;

/** The case seed `seed` stands for (fast-check's first draw with that seed). */
export function caseForSeed(seed: number, o: CaseOptions): ClusterCase {
  return fc.sample(caseArbitrary(o, worldSeedFor(seed)), { seed, numRuns: 1 })[0]!;
}

