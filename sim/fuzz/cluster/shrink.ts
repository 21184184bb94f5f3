// sim/fuzz/cluster/shrink.ts — shrinking a failing cluster case with fast-check, and the reproducer file.
//
// Owns: a delta-debugging pass (drop whole faults, then chunks of ops), then handing the
// failing case to fast-check as an example over a map-free arbitrary of its shape, so
// fast-check's shrinker can drop faults and ops and move times while the *same* invariant
// still fails; a run budget; the reproducer JSON (the case plus what it must show),
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
    fc.record({ atMs: time, kind: fc.constant('depose' as const), forMs: time }),
    fc.record({ atMs: time, kind: fc.constant('figure8' as const), phaseMs: fc.integer({ min: 1, max: BIG }) }),
    fc.record({ atMs: time, kind: fc.constant('splitVote' as const) }),
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
export function trimCase(k: ClusterCase, r: RunResult, cutLinearizability = false): ClusterCase {
  const workload = k.workload.map((steps, i) => steps.filter((_, j) => j / k.workers < (r.started[i]?.[j % k.workers] ?? 0)));
  let chaosMs = k.chaosMs;
  const at = r.violation?.atMs;
  // A history that is not linearizable may need outcomes that arrive after the blocked op, so
  // that cut is only tried (and kept only if the same failure comes out).
  if (at !== undefined && r.t0 >= 0 && at < r.t0 + k.chaosMs && (cutLinearizability || r.violation?.invariant !== 'linearizability')) {
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
  const tries = failing.violation?.invariant === 'linearizability' ? [true, false] : [false];
  for (const cutLin of tries) {
    if (runs >= maxRuns) break;
    const trimmed = trimCase(given, failing, cutLin);
    runs++;
    const r = runCase(trimmed);
    if (sameFailure(r, failing)) {
      original = trimmed;
      best = { kase: trimmed, result: r };
      break;
    }
  }
  // Delta debugging first (half the budget): whole faults, then chunks of each client's ops.
  // Cheap big cuts that fast-check's element-by-element shrinking would reach only slowly.
  if (maxRuns > 1) {
    const budget = Math.floor(maxRuns / 2);
    const attempt = (k: ClusterCase): boolean => {
      if (runs >= budget) return false;
      runs++;
      const r = runCase(k);
      if (!sameFailure(r, failing)) return false;
      original = k;
      best = { kase: k, result: r };
      return true;
    };
    for (let i = original.faults.length - 1; i >= 0 && runs < budget; i--) {
      attempt({ ...original, faults: original.faults.filter((_, j) => j !== i) });
    }
    for (let ci = 0; ci < original.workload.length && runs < budget; ci++) {
      let n = 2;
      while (runs < budget) {
        const steps = original.workload[ci]!;
        if (steps.length === 0) break;
        if (n > steps.length) n = steps.length;
        const size = Math.ceil(steps.length / n);
        let cut = false;
        for (let at = 0; at < steps.length && runs < budget; at += size) {
          const workload = original.workload.map((w, j) => (j === ci ? w.filter((_, x) => x < at || x >= at + size) : w));
          if (attempt({ ...original, workload })) {
            cut = true;
            break;
          }
        }
        if (cut) n = Math.max(n - 1, 2);
        else if (size === 1) break;
        else n = Math.min(n * 2, steps.length);
      }
    }
  }
  let exhausted = runs >= maxRuns;
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
