// core/raft/leader.ts — the leader's step function and the commands only a leader carries out.
//
// Owns: dispatching a leader's inputs (replication answers and heartbeat timer to
// replication.ts), client proposals (group commit: one write and one sync for a batch, sent to
// followers before the leader's own write), lease and ReadIndex reads, single-server peer
// changes (one at a time, only after an entry of this term committed), leadership transfer,
// and Consul 0.5's graceful leave of a leader.
// Must never: accept more than MAX_PENDING_PROPOSALS / MAX_PENDING_READS unanswered requests;
// start a peer change while another is uncommitted.
import { MAX_PENDING_PROPOSALS, MAX_PENDING_READS, normalizePeers, type RaftContext } from './context.ts';
import { advanceReads, startAwaitingReads } from './commit.ts';
import { onRequestVote } from './election.ts';
import { Progress } from './progress.ts';
import {
  broadcastAppend,
  leaderTick,
  leaseValid,
  maybeCommit,
  maybeSendTimeoutNow,
  onAppendResp,
  onHeartbeatResp,
  onSnapshotResp,
  sendAppend,
} from './replication.ts';
import { TIMER_HEARTBEAT, type Entry, type RaftInput } from './types.ts';

const enc = new TextEncoder();

export function stepLeader(c: RaftContext, nowMs: number, input: RaftInput): void {
  switch (input.kind) {
    case 'timer':
      if (input.name === TIMER_HEARTBEAT) leaderTick(c, nowMs);
      return;
    case 'receive': {
      const { from, msg } = input;
      // Appends, heartbeats or snapshots from another leader of this term cannot happen
      // (election safety); vote answers and TimeoutNow come too late to matter.
      if (msg.t === 'raft.vote') onRequestVote(c, nowMs, from, msg);
      else if (msg.t === 'raft.appendResp') onAppendResp(c, nowMs, from, msg);
      else if (msg.t === 'raft.heartbeatResp') onHeartbeatResp(c, nowMs, from, msg);
      else if (msg.t === 'raft.snapshotResp') onSnapshotResp(c, nowMs, from, msg);
      return;
    }
    case 'propose':
      return propose(c, nowMs, [{ reqId: input.reqId, data: input.data }]);
    case 'proposeBatch':
      return propose(c, nowMs, input.items);
    case 'read':
      return read(c, nowMs, input.reqId, input.mode);
    case 'addPeer':
      return changePeers(c, nowMs, 'add', input.addr, input.reqId);
    case 'removePeer':
      return changePeers(c, nowMs, 'remove', input.addr, input.reqId);
    case 'transferLeadership':
      return transferLeadership(c, nowMs, input.to);
    case 'leave':
      return leave(c, nowMs);
    default:
      return;
  }
}

/**
 * Append client entries. All of them go into one log write with one sync (group commit),
 * and the AppendEntries go out BEFORE the leader's own write: followers persist in parallel
 * with the leader (Raft thesis §10.2.1, as etcd does). Safe because the leader counts itself
 * toward a majority only through maybeCommit, which runs after the write in this same
 * effect batch, and the host carries out a batch in order without interruption.
 */
function propose(c: RaftContext, nowMs: number, items: { reqId: number; data: Uint8Array }[]): void {
  if (c.transferTarget || c.leaving) {
    const error = c.leaving ? 'leaving' : 'leadership transfer in progress';
    for (const { reqId } of items) c.out.push({ kind: 'proposeResult', reqId, ok: false, error, leader: c.id });
    return;
  }
  const room = Math.max(0, MAX_PENDING_PROPOSALS - c.pendingProposals.size);
  for (const { reqId } of items.slice(room)) {
    c.out.push({ kind: 'proposeResult', reqId, ok: false, error: `too many pending proposals (limit ${MAX_PENDING_PROPOSALS}); retry when some are answered`, leader: c.id });
  }
  const accepted = items.slice(0, room);
  if (accepted.length === 0) return;
  const entries: Entry[] = [];
  for (const { reqId, data } of accepted) {
    const e: Entry = { index: c.log.lastIndex + 1, term: c.currentTerm, type: 'cmd', data };
    c.appendInMemory(e);
    entries.push(e);
    c.pendingProposals.set(e.index, reqId);
  }
  broadcastAppend(c, nowMs);
  c.persistEntries(entries);
  maybeCommit(c, nowMs);
}

function read(c: RaftContext, nowMs: number, reqId: number, mode: 'lease' | 'readIndex'): void {
  if (c.pendingReads() >= MAX_PENDING_READS) {
    c.out.push({ kind: 'readResult', reqId, ok: false, error: `too many pending reads (limit ${MAX_PENDING_READS}); retry when some are answered`, leader: c.id });
    return;
  }
  // A lease is only safe while followers refuse votes near a live leader (CheckQuorum).
  if (mode === 'lease' && c.config.checkQuorum && c.committedInTerm && leaseValid(c, nowMs)) {
    c.readsAwaitingApply.push({ reqId, index: c.commit });
    advanceReads(c);
    return;
  }
  c.readsAwaitingTermCommit.push({ reqId });
  if (c.committedInTerm) startAwaitingReads(c, nowMs);
}

function changePeers(c: RaftContext, nowMs: number, op: 'add' | 'remove', addr: string, reqId?: number): void {
  const fail = (error: string, leader?: string): void => {
    if (reqId !== undefined) c.out.push({ kind: 'proposeResult', reqId, ok: false, error, leader });
    else c.warn(`Cannot ${op} peer ${addr}: ${error}`);
  };
  if (op === 'remove' && addr === c.id) {
    leave(c, nowMs);
    return;
  }
  if (!c.committedInTerm || c.pendingConfigIndex > c.commit) {
    fail('configuration change in progress', c.id);
    return;
  }
  if (reqId !== undefined && c.pendingProposals.size >= MAX_PENDING_PROPOSALS) {
    fail(`too many pending proposals (limit ${MAX_PENDING_PROPOSALS})`, c.id);
    return;
  }
  const has = c.peerSet.includes(addr);
  if ((op === 'add' && has) || (op === 'remove' && !has)) {
    if (reqId !== undefined) c.out.push({ kind: 'proposeResult', reqId, ok: true, index: c.commit });
    return;
  }
  const next = op === 'add' ? [...c.peerSet, addr] : c.peerSet.filter((p) => p !== addr);
  const index = c.log.lastIndex + 1;
  c.appendLocal({ index, term: c.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(normalizePeers(next))) });
  c.pendingConfigIndex = index;
  if (reqId !== undefined) c.pendingProposals.set(index, reqId);
  if (op === 'add') {
    c.info(`Added peer ${addr}, starting replication`);
    c.progress.set(addr, new Progress(c.log.lastIndex));
  } else {
    c.info(`Removed peer ${addr}, stopping replication (Index: ${index})`);
    c.progress.delete(addr);
  }
  broadcastAppend(c, nowMs);
  maybeCommit(c, nowMs);
}

function transferLeadership(c: RaftContext, nowMs: number, to?: string): void {
  let target = to;
  if (!target) {
    let best = -1;
    for (const p of c.others()) {
      const m = c.progress.get(p)?.match ?? 0;
      if (m > best) {
        best = m;
        target = p;
      }
    }
  }
  if (!target || target === c.id || !c.progress.has(target)) {
    c.warn(`Cannot transfer leadership${target ? ` to ${target}` : ''}: not a peer`);
    return;
  }
  c.info(`Transferring leadership to ${target}`);
  c.transferTarget = target;
  c.transferDeadlineMs = nowMs + c.config.electionTimeoutMs;
  if (!maybeSendTimeoutNow(c, target)) sendAppend(c, nowMs, target);
}

/**
 * Consul 0.5 graceful leave. A leader with peers proposes a peer set without itself, and once
 * that is committed stops replicating, steps down and clears its peer set (peers.json = null,
 * so a restart stays alone; commit.ts finishes it). A leader alone just clears its peer set.
 */
function leave(c: RaftContext, nowMs: number): void {
  if (c.others().length === 0) {
    c.clearPeersAfterLeave(nowMs);
    return;
  }
  if (c.leaving) return;
  c.leaving = true;
  const index = c.log.lastIndex + 1;
  c.appendLocal({ index, term: c.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(c.others())) });
  c.pendingConfigIndex = index;
  c.leaveIndex = index;
  broadcastAppend(c, nowMs);
  maybeCommit(c, nowMs);
}
