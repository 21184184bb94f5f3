// sim/fuzz/shrink.ts — shrinking a failing cluster case with fast-check, and the reproducer file.
//
// Owns: handing a failing case to fast-check as an example over a map-free arbitrary of its
// shape, so fast-check's shrinker can drop faults and ops and move times while the *same*
// invariant still fails; a run budget; the reproducer JSON (the case plus what it must show),
// and reading one back.
// Must never: accept a shrink that fails differently (a liveness failure is not a smaller
// linearizability failure).
import fc from 'fast-check';
import { LOCK_KEYS, REGISTER_KEYS, SERVICES } from './arbitrary.ts';
import { CLUSTER_BUGS } from './bugs.ts';
import { LEADER, caseSize, nodeNames, validateCase, CaseError, type ClusterCase, type FuzzFault, type Step } from './case.ts';
import { runCase, type RunResult, type Verdict } from './run.ts';

export interface ShrinkResult {
  kase: ClusterCase;
  result: RunResult;
  /** Simulation runs spent shrinking. */
  runs: number;
  /** The budget ran out before fast-check had nothing smaller to try. */
  exhausted: boolean;
}

const weight = (k: ClusterCase): number => {
  const s = caseSize(k);
  return s.faults * 4 + s.ops;
};

export function sameFailure(a: RunResult, b: RunResult): boolean {
  return a.verdict === b.verdict && a.violation?.invariant === b.violation?.invariant;
}

const BIG = 3_600_000;
const time = fc.integer({ min: 0, max: BIG });

/** The shape of a case's faults and workload as fast-check arbitraries without `map`, so
 *  fast-check can shrink a concrete failing case (given as an example) without its context. */
function shapeArbitrary(k: ClusterCase): fc.Arbitrary<{ faults: FuzzFault[]; workload: Step[][] }> {
  const names = nodeNames(k);
  const node = fc.constantFrom(...names);
  const target = fc.constantFrom(LEADER, ...names);
  const nodes = fc.array(node, { maxLength: 64 });
  const fault = fc.oneof(
    fc.record({ atMs: time, kind: fc.constant('partition' as const), groups: fc.array(nodes, { maxLength: 8 }), forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('oneWay' as const), from: nodes, to: nodes, forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('isolate' as const), node: target, forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('splitLeader' as const), forMs: time }),
    fc.record({ atMs: time, kind: fc.constantFrom('crash' as const, 'restart' as const, 'leave' as const), node: target, downMs: time }),
    fc.record({ atMs: time, kind: fc.constant('stall' as const), node: target, forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('link' as const), from: node, to: node, latencyMaxMs: fc.integer({ min: 1, max: 60_000 }), loss: fc.double({ min: 0, max: 1, noNaN: true }), forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('crashAfterVote' as const), downMs: time }),
  );
  const key = fc.constantFrom(...REGISTER_KEYS, ...LOCK_KEYS);
  const svc = fc.constantFrom(...SERVICES);
  const mode = fc.constantFrom('default' as const, 'consistent' as const, 'stale' as const);
  const op = fc.oneof(
    fc.record({ k: fc.constantFrom('put' as const, 'del' as const), key }),
    fc.record({ k: fc.constantFrom('get' as const, 'cas' as const), key, mode }),
    fc.record({ k: fc.constant('lock' as const), key, holdMs: time }),
    fc.record({ k: fc.constantFrom('register' as const, 'deregister' as const), svc }),
    fc.record({ k: fc.constant('health' as const), svc, mode: fc.constantFrom('default' as const, 'stale' as const) }),
  );
  const steps = fc.array(fc.record({ gapMs: time, op }), { maxLength: 100_000 });
  return fc.record({
    faults: fc.array(fault, { maxLength: 100_000 }) as fc.Arbitrary<FuzzFault[]>,
    workload: fc.tuple(...k.workload.map(() => steps)) as unknown as fc.Arbitrary<Step[][]>,
  });
}

/**
 * Cut what cannot have mattered: steps never started, and — when a Raft check tripped during
 * the safety phase — faults and time after the violation. Deterministic replay makes the
 * prefix identical, so the same failure must come out (checked by the caller's run).
 */
export function trimCase(k: ClusterCase, r: RunResult): ClusterCase {
  const workload = k.workload.map((steps, i) => steps.filter((_, j) => j / k.workers < (r.started[i]?.[j % k.workers] ?? 0)));
  let chaosMs = k.chaosMs;
  const at = r.violation?.atMs;
  if (at !== undefined && r.t0 >= 0 && at < r.t0 + k.chaosMs && r.violation?.invariant !== 'linearizability') {
    chaosMs = Math.max(1, Math.ceil(at - r.t0) + 1);
  }
  return { ...k, chaosMs, workload, faults: k.faults.filter((f) => f.atMs < chaosMs) };
}

/**
 * Shrink a failing case with fast-check: the case is fast-check's example, shrunk (dropping
 * faults and ops, moving times towards 0, simplifying targets) while the same invariant still
 * fails, within maxRuns simulation runs.
 */
export function shrinkCase(given: ClusterCase, failing: RunResult, maxRuns: number): ShrinkResult {
  let original = given;
  let best: { kase: ClusterCase; result: RunResult } = { kase: given, result: failing };
  let runs = 0;
  if (maxRuns > 0) {
    const trimmed = trimCase(given, failing);
    runs++;
    const r = runCase(trimmed);
    if (sameFailure(r, failing)) {
      original = trimmed;
      best = { kase: trimmed, result: r };
    }
  }
  let exhausted = false;
  let first = true;
  const fails = (shape: { faults: FuzzFault[]; workload: Step[][] }): boolean => {
    if (first) {
      first = false;
      return true; // the example itself: we already know it fails
    }
    if (runs >= maxRuns) {
      exhausted = true;
      return false; // out of budget: every remaining candidate counts as passing
    }
    runs++;
    const k: ClusterCase = { ...original, faults: [...shape.faults].sort((a, b) => a.atMs - b.atMs), workload: shape.workload };
    const r = runCase(k);
    if (!sameFailure(r, failing)) return false;
    if (weight(k) <= weight(best.kase)) best = { kase: k, result: r };
    return true;
  };
  fc.check(
    fc.property(shapeArbitrary(original), (shape) => !fails(shape)),
    { examples: [[{ faults: original.faults, workload: original.workload }]], numRuns: 1, seed: 0 },
  );
  return { kase: best.kase, result: best.result, runs, exhausted };
}

// ---------------------------------------------------------------------------- reproducer file

export interface Reproducer extends ClusterCase {
  /** What replaying must show. */
  expect: { verdict: Verdict; invariant: string; detail: string };
  /** Where it came from (informational). */
  origin: { seed: number; shrinkRuns: number; originalSize: { faults: number; ops: number } };
}

export function reproducerJson(r: ShrinkResult, seed: number, original: ClusterCase): string {
  const v = r.result.violation!;
  const rep: Reproducer = {
    ...r.kase,
    expect: { verdict: r.result.verdict, invariant: v.invariant, detail: v.detail },
    origin: { seed, shrinkRuns: r.runs, originalSize: caseSize(original) },
  };
  return JSON.stringify(rep, null, 1) + '\n';
}

/** Parse a case or reproducer file's text; throws CaseError naming the problem. */
export function parseCaseFile(text: string, file: string): { kase: ClusterCase; expect?: Reproducer['expect'] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CaseError(`${file}: not JSON (${(err as Error).message}); a case file is what \`muster fuzz cluster\` writes on a failure`);
  }
  try {
    const kase = validateCase(raw, CLUSTER_BUGS);
    const expect = (raw as Partial<Reproducer>).expect;
    return { kase, expect };
  } catch (err) {
    if (err instanceof CaseError) throw new CaseError(`${file}: ${err.message}`);
    throw err;
  }
}
