// core/gossip/math.ts — the formulas of SWIM/memberlist/Lifeguard, as pure functions.
//
// Owns: suspicion timeouts (memberlist util.go suspicionTimeout, Lifeguard's decay), the
// retransmit limit, push-pull interval scaling and the awareness timeout scaling.
// Must never: keep state. Tests check these against design-anchors §3.3.

/** memberlist's suspicionTimeout: SuspicionMult × max(1, log10(max(1, n))) × ProbeInterval.
 *  Note log10, not ln. Rounded to whole ms like Go's Duration arithmetic. */
export function suspicionTimeoutMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.round(suspicionMult * nodeScale * probeIntervalMs);
}

/** Lifeguard's remainingSuspicionTime: starts at max, falls toward min as log(C+1)/log(k+1). */
export function suspicionRemainingMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  return Math.max(minMs, Math.floor(raw));
}

/** Expected independent confirmations: SuspicionMult − 2, zero when too few other nodes exist. */
export function expectedConfirmations(suspicionMult: number, n: number): number {
  const k = suspicionMult - 2;
  return n - 2 < k ? 0 : Math.max(0, k);
}

/** Times each broadcast is piggybacked: RetransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** memberlist pushPullScale: × (ceil(log2 n − log2 32) + 1) once n > 32. */
export function pushPullScaleMs(intervalMs: number, n: number): number {
  const threshold = 32;
  if (n <= threshold) return intervalMs;
  const mult = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return intervalMs * mult;
}

/** Lifeguard awareness: timeouts stretch by (score + 1). */
export function scaleTimeoutMs(ms: number, healthScore: number): number {
  return ms * (healthScore + 1);
}
