// Shared by the bug-switch tests: run seeds with a planted bug until one fails, then shrink it.
import { expect } from 'vitest';
import { caseForSeed } from '../../sim/fuzz/cluster/arbitrary.ts';
import type { BugName } from '../../sim/fuzz/cluster/bugs.ts';
import { caseSize, type ClusterCase } from '../../sim/fuzz/cluster/case.ts';
import { runCase, type RunResult } from '../../sim/fuzz/cluster/run.ts';
import { shrinkCase } from '../../sim/fuzz/cluster/shrink.ts';

export const BUG_CHAOS_MS = 10_000;

export interface Hunt {
  seed: number;
  seedsRun: number;
  kase: ClusterCase;
  result: RunResult;
}

/** The first of seeds 0…maxSeeds-1 that fails with the bug planted (null if none does). */
export function hunt(bug: BugName, maxSeeds: number): Hunt | null {
  for (let seed = 0; seed < maxSeeds; seed++) {
    const kase = caseForSeed(seed, { servers: 3, clients: 2, chaosMs: BUG_CHAOS_MS, bug });
    const result = runCase(kase);
    if (result.verdict !== 'ok') return { seed, seedsRun: seed + 1, kase, result };
  }
  return null;
}

/** Catch the bug within maxSeeds as a correctness failure of one of `invariants`, then shrink
 *  it with fast-check (shrinkRuns runs at most) and check the reproducer still fails the same
 *  way and is small. Returns the sizes for the test's log line. */
export function catchAndShrink(bug: BugName, maxSeeds: number, invariants: string[], shrinkRuns: number, maxSize: { faults: number; ops: number }): string {
  const h = hunt(bug, maxSeeds);
  expect(h, `bug ${bug} not caught in ${maxSeeds} seeds (npx muster fuzz cluster --seeds ${maxSeeds} --duration ${BUG_CHAOS_MS / 1000} --bug ${bug})`).not.toBeNull();
  const { seed, kase, result } = h!;
  const replay = `npx muster fuzz cluster --seed ${seed} --seeds 1 --duration ${BUG_CHAOS_MS / 1000} --bug ${bug}`;
  expect(result.verdict, replay).toBe('correctness');
  expect(invariants, `${replay}: ${result.violation!.detail}`).toContain(result.violation!.invariant);
  const s = shrinkCase(kase, result, shrinkRuns);
  expect(s.result.verdict).toBe(result.verdict);
  expect(s.result.violation!.invariant).toBe(result.violation!.invariant);
  // The reproducer replays to the same failure.
  const again = runCase(s.kase);
  expect(again.violation?.invariant).toBe(result.violation!.invariant);
  const before = caseSize(kase);
  const after = caseSize(s.kase);
  expect(after.faults).toBeLessThanOrEqual(maxSize.faults);
  expect(after.ops).toBeLessThanOrEqual(maxSize.ops);
  return `${bug}: caught at seed ${seed} (${h!.seedsRun} seeds) as ${result.violation!.invariant}; shrunk in ${s.runs} runs from ${before.faults} faults + ${before.ops} ops to ${after.faults} faults + ${after.ops} ops`;
}
