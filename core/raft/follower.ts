// core/raft/follower.ts — the follower's step function, and what it shares with the candidate.
//
// Owns: following a leader (appends with the log-matching check and conflict hints, heartbeats
// carrying the commit index, InstallSnapshot), starting an election when the leader goes
// quiet, answering TimeoutNow, pre-vote answers, and refusing leader-only commands with the
// leader's address.
// Must never: overwrite a committed entry, or acknowledge entries before they are durable.
import type { RaftContext } from './context.ts';
import { commitTo } from './commit.ts';
import { campaign, onElectionTimeout, onPreVoteResp, onRequestVote } from './election.ts';
import { installSnapshot } from './snapshot.ts';
import { TIMER_ELECTION, type AppendEntriesMsg, type AppendEntriesResp, type Entry, type HeartbeatMsg, type InstallSnapshotMsg, type RaftInput } from './types.ts';

function noteLeader(c: RaftContext, nowMs: number, leader: string): void {
  c.lastContactMs = nowMs;
  if (c.role !== 'Follower' || c.leaderId !== leader) {
    c.becomeFollower(nowMs, c.currentTerm, leader);
  } else {
    c.resetElectionTimer(nowMs);
  }
}

function appendOk(c: RaftContext, matchIndex: number): AppendEntriesResp {
  return { t: 'raft.appendResp', term: c.currentTerm, success: true, matchIndex, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 };
}

export function onAppend(c: RaftContext, nowMs: number, from: string, m: AppendEntriesMsg): void {
  noteLeader(c, nowMs, m.leader);
  let prev = m.prevLogIndex;
  let prevTerm = m.prevLogTerm;
  let entries = m.entries;
  const base = c.log.snapshotIndex;
  if (prev < base) {
    // Entries up to our compaction point are committed and so match the leader's.
    entries = entries.filter((e) => e.index > base);
    if (entries.length === 0) {
      c.send(from, appendOk(c, Math.max(base, Math.min(m.prevLogIndex + m.entries.length, c.commit))));
      return;
    }
    prev = base;
    prevTerm = c.log.snapshotTerm;
  }
  const haveTerm = c.log.term(prev);
  if (haveTerm !== prevTerm) {
    let conflictTerm = 0;
    let conflictIndex = c.log.lastIndex + 1;
    if (haveTerm !== null) {
      conflictTerm = haveTerm;
      conflictIndex = Math.max(c.log.firstIndexOfTermAt(prev), c.commit + 1);
    }
    c.send(from, { t: 'raft.appendResp', term: c.currentTerm, success: false, matchIndex: 0, rejectedIndex: m.prevLogIndex, conflictTerm, conflictIndex });
    return;
  }
  const fresh = newEntries(c, from, entries);
  if (fresh === null) return;
  for (const e of fresh) c.appendLocal(e);
  const lastNew = prev + entries.length;
  c.send(from, appendOk(c, lastNew));
  commitTo(c, nowMs, Math.min(m.leaderCommit, lastNew));
}

/** The entries not yet in the log, after cutting a conflicting suffix; null when the leader
 *  would overwrite a committed entry (refused and logged). */
function newEntries(c: RaftContext, from: string, entries: Entry[]): Entry[] | null {
  const fresh: Entry[] = [];
  for (const e of entries) {
    if (fresh.length === 0) {
      const t = c.log.term(e.index);
      if (t === e.term) continue;
      if (t !== null) {
        if (e.index <= c.commit) {
          c.err(`refusing to overwrite committed entry ${e.index}; leader ${from} disagrees with the committed log`);
          return null;
        }
        c.truncateFrom(e.index);
      }
    }
    fresh.push(e);
  }
  return fresh;
}

export function onHeartbeat(c: RaftContext, nowMs: number, from: string, m: HeartbeatMsg): void {
  noteLeader(c, nowMs, m.leader);
  commitTo(c, nowMs, Math.min(m.commit, c.log.lastIndex));
  c.send(from, { t: 'raft.heartbeatResp', term: c.currentTerm, ctx: m.ctx, sentMs: m.sentMs });
}

export function onInstallSnapshot(c: RaftContext, nowMs: number, from: string, m: InstallSnapshotMsg): void {
  noteLeader(c, nowMs, m.leader);
  if (m.index > c.commit) installSnapshot(c, from, m);
  c.send(from, { t: 'raft.snapshotResp', term: c.currentTerm, index: m.index, success: true });
}

/** Commands only a leader carries out, answered by a follower or candidate. */
export function refuseAsNonLeader(c: RaftContext, nowMs: number, input: RaftInput): void {
  switch (input.kind) {
    case 'propose':
      c.out.push({ kind: 'proposeResult', reqId: input.reqId, ok: false, ...c.notLeaderError() });
      return;
    case 'proposeBatch':
      for (const { reqId } of input.items) c.out.push({ kind: 'proposeResult', reqId, ok: false, ...c.notLeaderError() });
      return;
    case 'read':
      c.out.push({ kind: 'readResult', reqId: input.reqId, ok: false, ...c.notLeaderError() });
      return;
    case 'addPeer':
    case 'removePeer': {
      const e = c.notLeaderError();
      if (input.reqId !== undefined) c.out.push({ kind: 'proposeResult', reqId: input.reqId, ok: false, error: e.error, leader: e.leader });
      else c.warn(`Cannot ${input.kind === 'addPeer' ? 'add' : 'remove'} peer ${input.addr}: ${e.error}`);
      return;
    }
    case 'leave':
      // Anyone but a leader with peers just clears its own peer set; the leader removes it
      // from the others when the agent sees it leave.
      c.clearPeersAfterLeave(nowMs);
      return;
    default:
      return;
  }
}

export function stepFollower(c: RaftContext, nowMs: number, input: RaftInput): void {
  if (input.kind === 'timer') {
    if (input.name === TIMER_ELECTION) onElectionTimeout(c, nowMs);
    return;
  }
  if (input.kind !== 'receive') {
    refuseAsNonLeader(c, nowMs, input);
    return;
  }
  const { from, msg } = input;
  switch (msg.t) {
    case 'raft.vote':
      return onRequestVote(c, nowMs, from, msg);
    case 'raft.voteResp':
      if (msg.pre) onPreVoteResp(c, nowMs, from, msg);
      return;
    case 'raft.append':
      return onAppend(c, nowMs, from, msg);
    case 'raft.heartbeat':
      return onHeartbeat(c, nowMs, from, msg);
    case 'raft.snapshot':
      return onInstallSnapshot(c, nowMs, from, msg);
    case 'raft.timeoutNow':
      if (c.canCampaign()) {
        c.info(`Received TimeoutNow from ${from}, starting election`);
        campaign(c, nowMs, true);
      }
      return;
    default:
      return; // answers meant for a leader or candidate: stale
  }
}
