// CI's cluster fuzz campaign: 100 clean seeds of a 3-server + 2-client cluster, each a swarm of
// faults and a KV/lock/catalog workload, must pass every safety and liveness check.
import { describe, expect, it } from 'vitest';
import { caseForSeed } from '../../sim/fuzz/cluster/arbitrary.ts';
import { runCase } from '../../sim/fuzz/cluster/run.ts';

/** Simulated safety phase per seed: 20 s (each seed still forms a cluster, runs its faults and
 *  workload, heals and converges). At 20 s seed 21 used to catch a member stuck 'leaving' in one
 *  agent's gossip view after it rejoined (test/gossip/rejoin.test.ts). */
export const CI_CHAOS_MS = 20_000;
export const CI_SEEDS = 100;

describe('fuzz cluster: clean seeds', () => {
  it(`${CI_SEEDS} seeds of 3 servers + 2 clients pass (safety, linearizability, convergence)`, () => {
    let ops = 0;
    let faults = 0;
    let linOps = 0;
    const failures: string[] = [];
    for (let seed = 0; seed < CI_SEEDS; seed++) {
      const r = runCase(caseForSeed(seed, { servers: 3, clients: 2, chaosMs: CI_CHAOS_MS }));
      ops += r.stats.ops;
      faults += r.stats.faultsFired;
      linOps += r.stats.linOps;
      if (r.verdict !== 'ok') {
        failures.push(
          `seed ${seed}: ${r.verdict} ${r.violation!.invariant}: ${r.violation!.detail.slice(0, 300)}\n` +
            `  replay: npx muster fuzz cluster --seed ${seed} --seeds 1 --duration ${CI_CHAOS_MS / 1000}`,
        );
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // The campaign must actually exercise the cluster.
    expect(faults).toBeGreaterThan(CI_SEEDS * 3);
    expect(ops).toBeGreaterThan(CI_SEEDS * 50);
    expect(linOps).toBeGreaterThan(CI_SEEDS * 40);
  }, 240_000);
});
