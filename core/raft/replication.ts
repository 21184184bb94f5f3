// core/raft/replication.ts — the leader's side of log replication.
//
// Owns: sending appends (batched by count and bytes, pipelined within the in-flight window,
// a snapshot when the follower is behind the log's base), the answers to them (progress, fast
// back-off on conflicts), heartbeats and their answers (CheckQuorum, leases, ReadIndex acks,
// stall detection), the commit rule (a majority's match index, Figure 8), leases, and the
// TimeoutNow of a leadership transfer.
// Must never: run on a node that is not the leader (leader.ts dispatches here).
import type { RaftContext } from './context.ts';
import { advanceReads, commitTo, sendHeartbeat } from './commit.ts';
import type { Progress } from './progress.ts';
import { majority, quorumValue } from './quorum.ts';
import { LEASE_TOO_LONG_FACTOR, TIMER_HEARTBEAT, type AppendEntriesResp, type Entry, type HeartbeatResp, type InstallSnapshotResp, type RaftMessage } from './types.ts';

/** Upper bound of an entry's encoded size beyond its data (keys, index, term, type). */
const ENTRY_OVERHEAD_BYTES = 48;

export function broadcastAppend(c: RaftContext, nowMs: number): void {
  for (const p of [...c.progress.keys()].sort()) sendAppend(c, nowMs, p);
}

export function sendAppend(c: RaftContext, nowMs: number, peer: string): void {
  const pr = c.progress.get(peer);
  if (!pr) return;
  if (pr.state === 'snapshot') return;
  if (pr.state === 'probe' && pr.paused) return;
  if (pr.next <= c.log.snapshotIndex) {
    sendSnapshot(c, nowMs, peer, pr);
    return;
  }
  do {
    if (pr.state === 'replicate' && pr.inflightFull(c.config.maxInflight)) return;
    const prev = pr.next - 1;
    const entries = limitBytes(c, c.log.slice(pr.next, c.log.lastIndex, c.config.maxAppendEntries));
    if (pr.state === 'replicate' && entries.length === 0) return;
    c.send(peer, {
      t: 'raft.append',
      term: c.currentTerm,
      leader: c.id,
      prevLogIndex: prev,
      prevLogTerm: c.log.term(prev) ?? 0,
      entries,
      leaderCommit: c.commit,
    });
    if (pr.state === 'probe') {
      pr.paused = true;
      return;
    }
    const last = entries[entries.length - 1]!.index;
    pr.inflight.push(last);
    pr.next = last + 1;
  } while (pr.next <= c.log.lastIndex);
}

/** Keep a batch under the transport's size budget (datagrams carry at most 1400 bytes). */
function limitBytes(c: RaftContext, entries: Entry[]): Entry[] {
  const budget = c.config.maxAppendBytes ?? ((c.config.via ?? 'tcp') === 'udp' ? 1000 : 4 * 1024 * 1024);
  let used = 0;
  let n = 0;
  for (const e of entries) {
    used += e.data.length + ENTRY_OVERHEAD_BYTES;
    if (n > 0 && used > budget) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

function sendSnapshot(c: RaftContext, nowMs: number, peer: string, pr: Progress): void {
  const s = c.snapshot;
  if (!s) return;
  pr.becomeSnapshot(s.index, nowMs);
  c.info(`Sending snapshot ${s.index} to ${peer}`);
  c.send(peer, { t: 'raft.snapshot', term: c.currentTerm, leader: c.id, index: s.index, lastTerm: s.term, peers: s.peers ?? c.peerSet, data: s.data });
}

export function onAppendResp(c: RaftContext, nowMs: number, from: string, m: AppendEntriesResp): void {
  const pr = c.progress.get(from);
  if (!pr) return;
  pr.recentActive = true;
  pr.failing = false;
  if (m.success) {
    pr.paused = false;
    if (m.matchIndex > pr.match) {
      pr.match = m.matchIndex;
      pr.next = Math.max(pr.next, pr.match + 1);
    }
    if (pr.state === 'probe') {
      pr.becomeReplicate();
      if (!pr.announced) {
        pr.announced = true;
        c.info(`pipelining replication to peer ${from}`);
      }
    }
    pr.freeTo(m.matchIndex);
    maybeCommit(c, nowMs);
    maybeSendTimeoutNow(c, from);
    sendAppend(c, nowMs, from);
    return;
  }
  // Rejected: drop stale answers, else back off using the follower's conflict hints. A
  // rejection at or below the known match is stale in every state (etcd does the same):
  // acting on it could never move `next` below match+1, so the resend would be rejected again
  // — with duplicated datagrams, an ever-growing storm.
  if (m.rejectedIndex <= pr.match) return;
  if (pr.state === 'probe' && m.rejectedIndex !== pr.next - 1) return;
  let next = m.conflictIndex;
  if (m.conflictTerm > 0) {
    const li = c.log.lastIndexOfTerm(m.conflictTerm);
    if (li > 0) next = li + 1;
  }
  next = Math.max(pr.match + 1, Math.min(next, m.rejectedIndex));
  pr.becomeProbe();
  pr.next = next;
  sendAppend(c, nowMs, from);
}

export function onHeartbeatResp(c: RaftContext, nowMs: number, from: string, m: HeartbeatResp): void {
  const pr = c.progress.get(from);
  if (!pr) return;
  pr.recentActive = true;
  pr.failing = false;
  if (m.sentMs > pr.ackedSentMs) pr.ackedSentMs = m.sentMs;
  for (const r of c.readsAwaitingQuorum) if (m.ctx >= r.ctx) r.acks.add(from);
  advanceReads(c);
  if (pr.state === 'probe') pr.paused = false;
  if (pr.match < c.log.lastIndex) sendAppend(c, nowMs, from);
}

export function onSnapshotResp(c: RaftContext, nowMs: number, from: string, m: InstallSnapshotResp): void {
  const pr = c.progress.get(from);
  if (!pr) return;
  pr.recentActive = true;
  if (pr.state !== 'snapshot') return;
  if (m.success) pr.match = Math.max(pr.match, m.index);
  pr.next = pr.match + 1;
  pr.becomeProbe();
  maybeCommit(c, nowMs);
  sendAppend(c, nowMs, from);
}

/** The transport could not deliver an append or snapshot: probe again from the known match. */
export function onUnreachableFollower(c: RaftContext, to: string, why: string, msg: RaftMessage): void {
  const pr = c.progress.get(to);
  if (!pr) return;
  if (msg.t === 'raft.append' || msg.t === 'raft.snapshot') {
    if (!pr.failing) c.err(`Failed to AppendEntries to ${to}: ${why}`);
    pr.failing = true;
    if (pr.state !== 'probe') pr.becomeProbe();
    pr.paused = false;
  }
}

/** Leader: the highest index a majority of the peer set holds. */
export function maybeCommit(c: RaftContext, nowMs: number): void {
  if (c.role !== 'Leader') return;
  const n = quorumValue(c.peerSet.map((p) => (p === c.id ? c.log.lastIndex : (c.progress.get(p)?.match ?? 0))));
  if (n === null || n <= c.commit) return;
  // Figure 8: only an entry of the current term is committed by counting replicas.
  if (c.log.term(n) !== c.currentTerm && !c.config.bugs?.commitOldTerm) return;
  commitTo(c, nowMs, n);
}

/** Lease: a quorum acknowledged heartbeats sent within leaderLeaseMs (leader's own clock). */
export function leaseValid(c: RaftContext, nowMs: number): boolean {
  const t = quorumValue(c.peerSet.map((p) => (p === c.id ? nowMs : (c.progress.get(p)?.ackedSentMs ?? -Infinity)))) ?? -Infinity;
  const leaseMs = c.config.bugs?.leaseTooLong ? LEASE_TOO_LONG_FACTOR * c.config.electionTimeoutMs : c.config.leaderLeaseMs;
  return nowMs - t < leaseMs;
}

export function maybeSendTimeoutNow(c: RaftContext, peer: string): boolean {
  if (c.transferTarget !== peer) return false;
  const pr = c.progress.get(peer);
  if (!pr || pr.match !== c.log.lastIndex) return false;
  c.send(peer, { t: 'raft.timeoutNow', term: c.currentTerm, leader: c.id });
  return true;
}

/** The leader's heartbeat timer: CheckQuorum, transfer deadline, heartbeats and stall repair. */
export function leaderTick(c: RaftContext, nowMs: number): void {
  c.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + c.config.heartbeatIntervalMs });
  if (c.config.checkQuorum && nowMs >= c.quorumCheckAtMs && !checkQuorum(c, nowMs)) return;
  if (c.transferTarget && nowMs >= c.transferDeadlineMs) {
    c.warn(`Leadership transfer to ${c.transferTarget} timed out`);
    c.transferTarget = null;
  }
  for (const p of [...c.progress.keys()].sort()) {
    const pr = c.progress.get(p)!;
    if (pr.state === 'snapshot' && nowMs - pr.snapshotSentMs > 4 * c.config.electionTimeoutMs) pr.becomeProbe();
    // No progress over a whole heartbeat interval while behind: appends (or their answers)
    // were lost. Resend from the known match instead of waiting for the window to drain.
    const stalled = pr.match < c.log.lastIndex && pr.match === pr.matchAtLastBeat;
    if (stalled && pr.state === 'replicate') pr.becomeProbe();
    else if (stalled && pr.state === 'probe') pr.paused = false;
    pr.matchAtLastBeat = pr.match;
    sendHeartbeat(c, nowMs, p, pr);
    if (stalled) sendAppend(c, nowMs, p);
  }
}

/** CheckQuorum round: false when the leader stepped down (a majority was silent). */
function checkQuorum(c: RaftContext, nowMs: number): boolean {
  // The leader counts itself (even while leaving, when it is no longer in its peer set).
  let active = 1;
  for (const p of c.others()) {
    const pr = c.progress.get(p);
    if (pr?.recentActive) active++;
    if (pr) pr.recentActive = false;
  }
  c.quorumCheckAtMs = nowMs + c.config.electionTimeoutMs;
  // Planted bug: a leader that trusts its (too long) lease keeps leading while it lasts.
  const trustsLease = !!c.config.bugs?.leaseTooLong && leaseValid(c, nowMs);
  if (active < majority(c.peerSet.length) && !trustsLease) {
    c.warn('Failed to contact quorum of nodes, stepping down');
    c.becomeFollower(nowMs, c.currentTerm, null);
    return false;
  }
  return true;
}
