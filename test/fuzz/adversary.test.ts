// The cluster fuzzer's adversaries on a correct Muster: each runs its whole sequence on most
// seeds (so it really reaches its corner), and no safety, linearizability or liveness check
// fails — the moves themselves (cuts, kill -9, restarts, early election timeouts) are legal.
import { describe, expect, it } from 'vitest';
import { caseForSeed } from '../../sim/fuzz/cluster/arbitrary.ts';
import type { ClusterCase, FuzzFault } from '../../sim/fuzz/cluster/case.ts';
import { runCase } from '../../sim/fuzz/cluster/run.ts';

const SEEDS = 6;

function withOnly(seed: number, fault: FuzzFault, raft?: Partial<ClusterCase['raft']>): ClusterCase {
  const k = caseForSeed(seed, { servers: 3, clients: 2, chaosMs: 6000 });
  return { ...k, raft: { ...k.raft, ...raft }, faults: [fault] };
}

function runAll(make: (seed: number) => ClusterCase): { completed: number; outcomes: string[] } {
  let completed = 0;
  const outcomes: string[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    const r = runCase(make(seed));
    const replay = `seed ${seed}: ${r.verdict} ${r.violation?.invariant ?? ''} ${r.violation?.detail.slice(0, 200) ?? ''}`;
    expect(r.verdict, replay).toBe('ok');
    outcomes.push(`${seed}: ${r.adversaries.join(' | ')}`);
    if (r.adversaries.some((a) => a.startsWith('completed'))) completed++;
  }
  return { completed, outcomes };
}

describe('fuzz cluster adversaries on a correct cluster', () => {
  it('depose: the leader is cut off for its whole span and every check passes', () => {
    const { completed, outcomes } = runAll((s) => withOnly(s, { atMs: 500, kind: 'depose', forMs: 3000 }));
    expect(completed, outcomes.join('\n')).toBe(SEEDS);
  }, 60_000);

  it('figure8: the sequence reaches the overwrite on most seeds, and nothing committed is lost', () => {
    const { completed, outcomes } = runAll((s) => withOnly(s, { atMs: 500, kind: 'figure8', phaseMs: 3000 }, { maxAppendEntries: 1 }));
    expect(completed, outcomes.join('\n')).toBeGreaterThanOrEqual(SEEDS / 2);
  }, 60_000);

  it('splitVote: two candidates contest a term with crashing voters, and every vote holds', () => {
    const { completed, outcomes } = runAll((s) => withOnly(s, { atMs: 500, kind: 'splitVote' }));
    expect(completed, outcomes.join('\n')).toBeGreaterThanOrEqual(SEEDS / 2);
  }, 60_000);
});
