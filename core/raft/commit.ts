// core/raft/commit.ts — what follows a commit index moving, in every role: applying committed
// entries in order, answering the proposals and reads they unblock, finishing a leader's
// graceful leave, and asking the host for a snapshot.
//
// Owns: commitTo, applyCommitted, the leader's read stages (waiting for a commit in its term,
// for a quorum of heartbeat answers, for apply), and heartbeats (which also carry ReadIndex
// rounds).
// Must never: move the commit index backwards or apply an entry twice in one lifetime.
import type { RaftContext } from './context.ts';
import type { Progress } from './progress.ts';
import { hasMajority } from './quorum.ts';

export function commitTo(c: RaftContext, nowMs: number, index: number): void {
  if (index <= c.commit) return;
  c.setCommit(index);
  if (c.role === 'Leader' && !c.committedInTerm && c.log.term(index) === c.currentTerm) {
    c.committedInTerm = true;
    startAwaitingReads(c, nowMs);
  }
  applyCommitted(c, nowMs);
}

function applyCommitted(c: RaftContext, nowMs: number): void {
  while (c.applied < c.commit) {
    const i = c.applied + 1;
    const e = c.log.entry(i);
    if (!e) break;
    c.applied = i;
    if (e.type === 'cmd') c.out.push({ kind: 'apply', index: e.index, term: e.term, data: e.data });
    const reqId = c.pendingProposals.get(i);
    if (reqId !== undefined) {
      c.pendingProposals.delete(i);
      c.out.push({ kind: 'proposeResult', reqId, ok: true, index: i });
    }
  }
  c.pruneConfigHistory();
  advanceReads(c);
  if (c.leaving && c.role === 'Leader' && c.commit >= c.leaveIndex) finishLeave(c, nowMs);
  if (!c.snapshotPending && c.applied - (c.snapshot?.index ?? 0) >= c.config.snapshotThreshold) {
    c.snapshotPending = true;
    c.out.push({ kind: 'takeSnapshot', index: c.applied });
  }
}

function finishLeave(c: RaftContext, nowMs: number): void {
  for (const p of [...c.progress.keys()].sort()) {
    c.info(`Removed peer ${p}, stopping replication (Index: ${c.leaveIndex})`);
  }
  c.info('Removed ourself, transitioning to follower');
  c.clearPeersAfterLeave(nowMs);
}

export function sendHeartbeat(c: RaftContext, nowMs: number, peer: string, pr: Progress): void {
  c.send(peer, { t: 'raft.heartbeat', term: c.currentTerm, leader: c.id, commit: Math.min(pr.match, c.commit), ctx: c.readCtx, sentMs: nowMs });
}

/** Reads that waited for a commit in this term start a ReadIndex round (one heartbeat each way). */
export function startAwaitingReads(c: RaftContext, nowMs: number): void {
  if (c.readsAwaitingTermCommit.length === 0) return;
  const ctx = ++c.readCtx;
  for (const r of c.readsAwaitingTermCommit) c.readsAwaitingQuorum.push({ reqId: r.reqId, index: c.commit, ctx, acks: new Set([c.id]) });
  c.readsAwaitingTermCommit = [];
  for (const p of [...c.progress.keys()].sort()) sendHeartbeat(c, nowMs, p, c.progress.get(p)!);
  advanceReads(c);
}

/** Reads whose round a quorum answered wait for apply; applied ones are answered. */
export function advanceReads(c: RaftContext): void {
  if (c.role !== 'Leader') return;
  const still = [];
  for (const r of c.readsAwaitingQuorum) {
    if (hasMajority(c.peerSet, (p) => r.acks.has(p))) c.readsAwaitingApply.push({ reqId: r.reqId, index: r.index });
    else still.push(r);
  }
  c.readsAwaitingQuorum = still;
  const waiting: { reqId: number; index: number }[] = [];
  for (const r of c.readsAwaitingApply) {
    if (c.applied >= r.index) c.out.push({ kind: 'readResult', reqId: r.reqId, ok: true, index: r.index });
    else waiting.push(r);
  }
  c.readsAwaitingApply = waiting;
}
