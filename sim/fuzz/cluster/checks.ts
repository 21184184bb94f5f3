// sim/fuzz/cluster/checks.ts — judging a cluster run's client history: linearizable KV, stale reads
// that only return written values, one lock holder at a time, health reads that only name
// registered services.
//
// Owns: the history invariants and their failure texts (short enough to print, precise
// enough to act on).
// Must never: change the history or look at the cluster (the Raft observer does that).
import { checkLinearizable, kvModel, pruneUnobservedKvWrites } from '../linearizability.ts';
import type { Violation } from '../violation.ts';
import type { History } from './workload.ts';

/** Search budget for the linearizability check (≈1 s); beyond it the verdict is "unknown". */
export const LIN_MAX_STEPS = 300_000;
/** Lock keys with more unknown-outcome lock ops than this are left to the holder-interval
 *  check: every lost acquire doubles the lock histories to consider. */
export const LOCK_LIN_MAX_PENDING = 16;

function linearizableOps(h: History): { ops: History['kv']; skippedLocks: number } {
  const pendingLocks = new Map<string, number>();
  for (const op of h.kv) {
    const k = op.input.op;
    if (op.ret === undefined && (k === 'acquire' || k === 'release' || k === 'invalidate')) pendingLocks.set(op.input.key, (pendingLocks.get(op.input.key) ?? 0) + 1);
  }
  const skip = new Set([...pendingLocks].filter(([, n]) => n > LOCK_LIN_MAX_PENDING).map(([k]) => k));
  return { ops: pruneUnobservedKvWrites(h.kv.filter((op) => !skip.has(op.input.key))), skippedLocks: skip.size };
}

export function checkHistory(h: History, nodeNames: string[]): { violations: Violation[]; linSteps: number; linUnknown: boolean } {
  const out: Violation[] = [];
  // Linearizability of writes, default and consistent reads, cas and locks (per key).
  const { ops, skippedLocks } = linearizableOps(h);
  const lin = checkLinearizable(kvModel, ops, { maxSteps: LIN_MAX_STEPS });
  if (lin.verdict === 'illegal') {
    const part = lin.partition!;
    const d = kvModel.describe!;
    const blocked = lin.blockedOn;
    const prefix = (lin.longestPrefix ?? []).slice(-4).map(d);
    out.push({
      invariant: 'linearizability',
      detail:
        `key ${part[0]!.input.key}: ${part.length} ops have no linearization; ` +
        (blocked ? `cannot place ${d(blocked)}` : 'no order fits') +
        (prefix.length ? ` after … ${prefix.join('; ')}` : ''),
      atMs: blocked?.ret ?? blocked?.call ?? 0,
    });
  }
  // Stale reads may lag, but never invent: the value must have been written before the answer.
  for (const r of h.stale) {
    if (r.value === null) continue;
    const ok = h.written.some((w) => w.key === r.key && w.value === r.value && w.call <= r.ret);
    if (!ok) {
      out.push({ invariant: 'stale reads return written values', detail: `${h.labels[r.client]} read ${r.key}=${JSON.stringify(r.value)} with ?stale, a value no write had sent by then`, atMs: r.ret });
      break;
    }
  }
  // At most one holder: beliefs (acquire answered true → release sent) of two sessions never overlap.
  const holds = [...h.holds].sort((a, b) => a.from - b.from);
  outer: for (let i = 0; i < holds.length; i++) {
    for (let j = i + 1; j < holds.length; j++) {
      const a = holds[i]!;
      const b = holds[j]!;
      if (b.from >= a.to) continue;
      if (a.key !== b.key || a.session === b.session) continue;
      out.push({
        invariant: 'one lock holder at a time',
        detail: `${a.key}: ${h.labels[a.client]} holds it from ${a.from} to ${a.to === Infinity ? 'the end' : a.to} ms, ${h.labels[b.client]} acquired it at ${b.from} ms`,
        atMs: b.from,
      });
      break outer;
    }
  }
  const names = new Set(nodeNames);
  for (const r of h.health) {
    const bad = r.ids.find((id) => !h.registered.some((g) => g.id === id && g.call <= r.ret));
    const badNode = r.nodes.find((n) => !names.has(n));
    if (bad !== undefined || badNode !== undefined) {
      out.push({
        invariant: 'health reads return registered services',
        detail: bad !== undefined ? `${h.labels[r.client]} read service instance ${bad} of ${r.svc}, never registered before ${r.ret} ms` : `unknown node ${badNode}`,
        atMs: r.ret,
      });
      break;
    }
  }
  return { violations: out, linSteps: lin.steps, linUnknown: lin.verdict === 'unknown' || skippedLocks > 0 };
}
