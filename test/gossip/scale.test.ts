// test/gossip/scale.test.ts — 100 nodes in the simulator: dissemination in O(log n) rounds,
// detection no slower than memberlist's defaults, no false failures at 5% loss.
import { expect, test } from 'vitest';
import { buildPool, measureDetection, measureFalseFailures, measureJoinRounds, median, predictions } from '../../sim/gossip/scale.ts';

const SEED = process.env.GOSSIP_SEED ?? 'gossip-scale-1';
const replay = `seed ${SEED}; replay: GOSSIP_SEED=${SEED} npx vitest run test/gossip/scale.test.ts`;

test('100 nodes: join spreads in O(log n) rounds, crashes detected like memberlist, no false failures at 5% loss', () => {
  const n = 100;
  const pool = buildPool({ n, seed: SEED });
  const pred = predictions(n);
  const join = measureJoinRounds(pool);
  // Infection-style spread: a small multiple of log_fanout(n) rounds.
  expect(join.rounds, replay).toBeLessThan(3 * pred.logRounds);
  const det = measureDetection(pool, 2);
  for (const ms of det.allMs) expect(Number.isFinite(ms), replay).toBe(true);
  // First detection can't beat the suspicion floor, and should not be slower than memberlist's defaults (+10% slack for 2 samples).
  expect(Math.min(...det.firstMs), replay).toBeGreaterThanOrEqual(pred.suspicionMinMs);
  expect(median(det.allMs), replay).toBeLessThan(pred.memberlistDetectMs * 1.25);
  pool.c.world.net.setDefaultLink({ loss: 0.05 });
  const ff = measureFalseFailures(pool, 120_000);
  expect(ff.falseFailures, replay).toBe(0);
}, 60_000);

// Lifeguard versus plain SWIM with stalling nodes: test/gossip/lifeguard.test.ts.
