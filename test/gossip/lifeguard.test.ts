// test/gossip/lifeguard.test.ts — Lifeguard's case in the simulator: slow (CPU-starved) nodes make
// plain SWIM suspect and fail healthy members; Lifeguard, on the same seed, does not.
//
// The slow nodes stall for 1–3 s at a time and get only a 1–5 ms slice between stalls. On each
// resume a stalled host runs its expired timers before its held reads (sim/kernel.ts), so the
// probe it sent before stalling times out although the ack is waiting in its socket, and the
// refutation of a suspicion it raised can come too late — the mechanism the Lifeguard paper names.
import { expect, test } from 'vitest';
import { buildPool, measureFalseFailures, type FalseFailureFigures, type StallPlan } from '../../sim/gossip/scale.ts';

const SEED = process.env.GOSSIP_SEED ?? 'lg-2';
const replay = `seed ${SEED}; replay: GOSSIP_SEED=${SEED} npx vitest run test/gossip/lifeguard.test.ts`;

function run(lifeguard: boolean, n: number, durationMs: number, stall: StallPlan): FalseFailureFigures {
  // Same seed for both protocols: same pool, same loss draws until their behaviour diverges.
  const pool = buildPool({ n, seed: SEED, config: { lifeguard } });
  pool.c.world.net.setDefaultLink({ loss: 0.05 });
  return measureFalseFailures(pool, durationMs, stall);
}

function line(name: string, r: FalseFailureFigures): string {
  return `${name.padEnd(10)} false failures ${String(r.falseFailures).padStart(3)}, false suspicions ${String(r.falseSuspicions).padStart(4)} (by slow nodes ${r.falseSuspicionsByStalled}), slow nodes marked failed ${r.aboutStalled}, refutations ${r.refutes}, stalls ${r.stalls}`;
}

test('5 slow nodes among 50 at 5% loss: Lifeguard has fewer false failures (≈0) and far fewer false suspicions than SWIM', () => {
  const stall: StallPlan = { indices: [1, 2, 3, 4, 5], stallMs: [1000, 3000], gapMs: [1, 5] };
  const swim = run(false, 50, 180_000, stall);
  const lg = run(true, 50, 180_000, stall);
  console.log(`lifeguard vs swim, 50 nodes, 5 slow nodes, 3 min, 5% loss (${replay})\n  ${line('SWIM', swim)}\n  ${line('Lifeguard', lg)}`);
  // The slow nodes really stalled, and really misled plain SWIM.
  expect(swim.stalls, replay).toBeGreaterThan(300);
  expect(swim.falseSuspicions, replay).toBeGreaterThan(100);
  expect(swim.falseFailures, replay).toBeGreaterThan(0);
  expect(lg.falseFailures, replay).toBeLessThan(swim.falseFailures);
  expect(lg.falseFailures, replay).toBeLessThanOrEqual(1);
  // Local health stretches the slow nodes' probe timeouts: an order of magnitude fewer false suspicions.
  expect(lg.falseSuspicions * 10, replay).toBeLessThan(swim.falseSuspicions);
}, 60_000);

test('one node pausing 1–3 s every 2–5 s (30 nodes): no healthy node is marked failed, with or without Lifeguard', () => {
  const stall: StallPlan = { indices: [1], stallMs: [1000, 3000], gapMs: [2000, 5000] };
  const swim = run(false, 30, 90_000, stall);
  const lg = run(true, 30, 90_000, stall);
  console.log(`periodic pauses, 30 nodes, 1 node, 90 s, 5% loss (${replay})\n  ${line('SWIM', swim)}\n  ${line('Lifeguard', lg)}`);
  expect(lg.stalls, replay).toBeGreaterThan(10);
  expect(lg.falseFailures, replay).toBe(0);
  expect(swim.falseFailures, replay).toBe(0);
}, 60_000);
