// core/raft/context.ts — one Raft server's state and the effect buffer every role step writes to.
//
// Owns: the persistent state (term, vote, log, peer set), the volatile state (commit, applied,
// role, leader), each role's bookkeeping (votes; progress, pending proposals and reads), the
// named limits of every queue, and the small operations all roles share: effect helpers (logs,
// sends, synced writes — each one recorded in the durability ledger), role-independent
// transitions (become follower, set/roll back/clear the peer set) and appending to the log.
// The role step functions (follower.ts, candidate.ts, leader.ts) and their helpers work on it.
// Must never: be reachable from outside core/raft (RaftNode holds it privately); read a clock or
// draw randomness except from the injected Rng.
import type { Rng } from '../rng.ts';
import { RaftLog } from './log.ts';
import type { Progress } from './progress.ts';
import { PEERS_PATH, formatPeersJson } from './peers.ts';
import { LOG_PATH, STATE_PATH, encodeEntryRecords, encodeHardState, encodeTruncateRecord, type SnapshotFile } from './storage.ts';
import { check, checkEntriesOut, checkHardStateOut, type Durable } from './invariants.ts';
import {
  TIMER_ELECTION,
  TIMER_HEARTBEAT,
  type Entry,
  type RaftConfig,
  type RaftEffect,
  type RaftMessage,
  type RaftState,
} from './types.ts';

/** Proposals (and peer changes) a leader holds unanswered; beyond it new ones are refused. */
export const MAX_PENDING_PROPOSALS = 16_384;
/** Reads a leader holds unanswered (all three stages together); beyond it new ones are refused. */
export const MAX_PENDING_READS = 16_384;
/** The "no known peers" warning is repeated at most this often (see onElectionTimeout). */
export const NO_PEERS_WARN_EVERY_MS = 1000;

export interface PendingRead {
  reqId: number;
  index: number;
  ctx: number;
  acks: Set<string>;
}

const dec = new TextDecoder();

export function normalizePeers(peers: readonly string[]): string[] {
  return [...new Set(peers)].sort();
}

export function decodePeers(e: Entry): string[] {
  return normalizePeers(JSON.parse(dec.decode(e.data)) as string[]);
}

export class RaftContext {
  readonly id: string;

  currentTerm: number;
  votedFor: string | null;
  log: RaftLog;
  commit = 0;
  applied = 0;
  role: RaftState = 'Follower';
  leaderId: string | null = null;
  peerSet: string[];
  /** Peer sets appended this lifetime above the commit index (and the newest at or below it),
   *  so a truncated peer entry can be rolled back; older ones can never be truncated. */
  configHistory: { index: number; peers: string[] }[];

  lastContactMs: number | null = null;
  /** When "no known peers" was last logged; null = not since the peer set last changed. */
  noPeersWarnedAtMs: number | null = null;

  // candidate (and pre-candidate): answers of voters only, so bounded by the peer set
  votes = new Map<string, boolean>();
  preVoting = false;
  transferCampaign = false;

  // leader
  progress = new Map<string, Progress>();
  /** index → reqId; at most MAX_PENDING_PROPOSALS. */
  pendingProposals = new Map<number, number>();
  committedInTerm = false;
  pendingConfigIndex = 0;
  leaving = false;
  leaveIndex = 0;
  quorumCheckAtMs = 0;
  transferTarget: string | null = null;
  transferDeadlineMs = 0;
  readCtx = 0;
  // The three read stages; together at most MAX_PENDING_READS.
  readsAwaitingTermCommit: { reqId: number }[] = [];
  readsAwaitingQuorum: PendingRead[] = [];
  readsAwaitingApply: { reqId: number; index: number }[] = [];

  snapshot: SnapshotFile | null;
  snapshotPending = false;

  readonly durable: Durable;
  out: RaftEffect[] = [];

  constructor(
    readonly config: RaftConfig,
    readonly rng: Rng,
    init: { term: number; vote: string | null; log: RaftLog; peers: string[]; snapshot: SnapshotFile | null },
  ) {
    this.id = config.id;
    this.currentTerm = init.term;
    this.votedFor = init.vote;
    this.log = init.log;
    this.snapshot = init.snapshot;
    this.peerSet = normalizePeers(init.peers);
    this.configHistory = [{ index: 0, peers: this.peerSet }];
    if (this.snapshot) {
      this.commit = this.snapshot.index;
      this.applied = this.snapshot.index;
    }
    this.durable = { term: init.term, vote: init.vote, lastIndex: init.log.lastIndex };
  }

  // ------------------------------------------------------------------ effects

  info(text: string): void {
    this.out.push({ kind: 'log', level: 'INFO', source: 'raft', text });
  }
  warn(text: string): void {
    this.out.push({ kind: 'log', level: 'WARN', source: 'raft', text });
  }
  err(text: string): void {
    this.out.push({ kind: 'log', level: 'ERR', source: 'raft', text });
  }

  send(to: string, msg: RaftMessage): void {
    this.checkDurableBeforeSend(msg);
    this.out.push({ kind: 'send', fromPort: this.config.port, to, via: this.config.via ?? 'tcp', msg });
  }

  emitStateChange(): void {
    this.out.push({ kind: 'stateChange', state: this.role, term: this.currentTerm, leader: this.leaderId });
  }

  persistHardState(sync = true): void {
    checkHardStateOut(this.id, this.currentTerm, this.votedFor);
    this.out.push({ kind: 'persist', path: STATE_PATH, data: encodeHardState(this.currentTerm, this.votedFor), mode: 'replace', sync });
    if (sync) {
      this.durable.term = this.currentTerm;
      this.durable.vote = this.votedFor;
    }
  }

  persistPeers(peersOrNull: string[] | null): void {
    this.out.push({ kind: 'persist', path: PEERS_PATH, data: formatPeersJson(peersOrNull), mode: 'replace', sync: true });
  }

  /** Append records for entries already in the in-memory log (one write, one sync). */
  persistEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    checkEntriesOut(this.id, entries);
    check(first.index <= this.durable.lastIndex + 1, this.id, 'log records are written without gaps', () => `entry ${first.index} written, durable to ${this.durable.lastIndex}`);
    this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeEntryRecords(entries), mode: 'append', sync: true });
    this.durable.lastIndex = entries[entries.length - 1]!.index;
  }

  persistTruncate(fromIndex: number): void {
    this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeTruncateRecord(fromIndex), mode: 'append', sync: true });
    this.durable.lastIndex = Math.min(this.durable.lastIndex, fromIndex - 1);
  }

  /** Rewrite log.bin atomically with the retained entries (anchor = entry at the log base, if any). */
  rewriteLogFile(anchor: Entry | null): void {
    const entries = anchor ? [anchor, ...this.log.all()] : this.log.all();
    checkEntriesOut(this.id, entries);
    this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeEntryRecords(entries), mode: 'replace', sync: true });
    this.durable.lastIndex = this.log.lastIndex;
  }

  /** Persisted before send: a message carries only a durable term; a granted vote, a durable
   *  vote; an append acknowledgment, durable entries. (Pre-votes change nothing, so carry a
   *  term nobody wrote.) */
  private checkDurableBeforeSend(msg: RaftMessage): void {
    const pre = (msg.t === 'raft.vote' || msg.t === 'raft.voteResp') && msg.pre;
    if (pre) return;
    const d = this.durable;
    check(msg.term === d.term, this.id, 'a message carries a durable term', () => `${msg.t} of term ${msg.term} sent while term ${d.term} is on disk`);
    if (msg.t === 'raft.voteResp' && msg.granted && !this.config.bugs?.noFsyncVote) {
      check(d.vote !== null && d.vote === this.votedFor, this.id, 'a granted vote is durable before it is sent', () => `vote for ${this.votedFor} in term ${msg.term} sent, disk records ${d.vote}`);
    }
    if (msg.t === 'raft.appendResp' && msg.success) {
      check(msg.matchIndex <= Math.max(d.lastIndex, this.log.snapshotIndex), this.id, 'acknowledged entries are durable', () => `match ${msg.matchIndex} acknowledged, entries durable to ${d.lastIndex}`);
    }
  }

  // ------------------------------------------------------------------ small queries

  others(): string[] {
    return this.peerSet.filter((p) => p !== this.id);
  }
  isVoter(): boolean {
    return this.peerSet.includes(this.id);
  }
  /** Alone without -bootstrap, or removed: Consul's "no known peers". */
  canCampaign(): boolean {
    if (!this.isVoter()) return false;
    return this.peerSet.length > 1 || this.config.enableSingleNode;
  }
  /** Leader stickiness: we heard from a live leader less than a minimum election timeout ago. */
  inLease(nowMs: number): boolean {
    if (!this.config.checkQuorum) return false;
    if (this.role === 'Leader') return true;
    return this.leaderId !== null && this.lastContactMs !== null && nowMs - this.lastContactMs < this.config.electionTimeoutMs;
  }
  notLeaderError(): { error: string; leader?: string } {
    if (this.leaderId === null) return { error: 'No cluster leader' };
    return { error: 'not leader', leader: this.leaderId };
  }

  resetElectionTimer(nowMs: number): void {
    const t = this.config.electionTimeoutMs;
    this.out.push({ kind: 'timer', name: TIMER_ELECTION, atMs: nowMs + t + this.rng.int(t) });
  }

  // ------------------------------------------------------------------ state that every role changes

  setTerm(term: number): void {
    check(term >= this.currentTerm, this.id, 'term never decreases', () => `${this.currentTerm} → ${term}`);
    this.currentTerm = term;
  }

  setVote(candidate: string): void {
    check(
      this.votedFor === null || this.votedFor === candidate || !!this.config.bugs?.doubleVote,
      this.id,
      'one vote per term',
      () => `term ${this.currentTerm}: voted for ${this.votedFor}, now ${candidate}`,
    );
    this.votedFor = candidate;
  }

  becomeFollower(nowMs: number, term: number, leader: string | null): void {
    const wasLeader = this.role === 'Leader';
    const changed = this.role !== 'Follower' || term !== this.currentTerm || leader !== this.leaderId;
    if (term !== this.currentTerm) {
      this.setTerm(term);
      this.votedFor = null;
      this.persistHardState();
    }
    if (this.role !== 'Follower') {
      this.role = 'Follower';
      this.info(`Node at ${this.id} [Follower] entering Follower state`);
    }
    this.leaderId = leader;
    this.preVoting = false;
    this.votes.clear();
    if (wasLeader) this.stepDownCleanup();
    this.out.push({ kind: 'cancelTimer', name: TIMER_HEARTBEAT });
    this.resetElectionTimer(nowMs);
    if (changed) this.emitStateChange();
  }

  private stepDownCleanup(): void {
    for (const p of [...this.progress.keys()].sort()) {
      if (this.progress.get(p)!.state === 'replicate') this.info(`aborting pipeline replication to peer ${p}`);
    }
    this.progress.clear();
    const pending = [...this.pendingProposals.entries()].sort((a, b) => a[0] - b[0]);
    this.pendingProposals.clear();
    for (const [, reqId] of pending) {
      this.out.push({ kind: 'proposeResult', reqId, ok: false, error: 'leadership lost', leader: this.leaderId ?? undefined });
    }
    const reads = [
      ...this.readsAwaitingTermCommit.map((r) => r.reqId),
      ...this.readsAwaitingQuorum.map((r) => r.reqId),
      ...this.readsAwaitingApply.map((r) => r.reqId),
    ];
    this.readsAwaitingTermCommit = [];
    this.readsAwaitingQuorum = [];
    this.readsAwaitingApply = [];
    for (const reqId of reads) this.out.push({ kind: 'readResult', reqId, ok: false, error: 'leadership lost', leader: this.leaderId ?? undefined });
    this.transferTarget = null;
    this.leaving = false;
    this.committedInTerm = false;
  }

  /** The newest peer set recorded in the log (or the snapshot), null when none is. */
  lastLoggedPeers(): string[] | null {
    for (let i = this.log.lastIndex; i >= this.log.firstIndex && i > this.log.snapshotIndex; i--) {
      const e = this.log.entry(i);
      if (e && e.type === 'peers') return decodePeers(e);
    }
    const base = this.configHistory[0];
    return base && base.index > 0 ? base.peers : null;
  }

  setPeers(peers: string[], index: number): void {
    this.peerSet = normalizePeers(peers);
    this.noPeersWarnedAtMs = null;
    this.configHistory.push({ index, peers: this.peerSet });
    this.pruneConfigHistory();
    // Consul 0.5: a server no longer in the set keeps only itself.
    this.persistPeers(this.peerSet.includes(this.id) ? this.peerSet : [this.id]);
  }

  /** Entries at or below the commit index are never truncated, so of those only the newest can
   *  become current again on a rollback; the base (first) entry also tells lastLoggedPeers
   *  where the peer set came from. Keeps the history bounded by the uncommitted peer entries. */
  pruneConfigHistory(): void {
    const h = this.configHistory;
    let newestCommitted = 0;
    for (let i = 1; i < h.length; i++) if (h[i]!.index <= this.commit) newestCommitted = i;
    if (newestCommitted > 1) this.configHistory = [h[0]!, ...h.slice(newestCommitted)];
  }

  rollbackConfig(fromIndex: number): void {
    const before = this.configHistory.length;
    while (this.configHistory.length > 1 && this.configHistory[this.configHistory.length - 1]!.index >= fromIndex) this.configHistory.pop();
    if (this.configHistory.length !== before) {
      this.peerSet = this.configHistory[this.configHistory.length - 1]!.peers;
      this.persistPeers(this.peerSet.includes(this.id) ? this.peerSet : [this.id]);
    }
  }

  clearPeersAfterLeave(nowMs: number): void {
    this.peerSet = [];
    this.noPeersWarnedAtMs = null;
    this.configHistory = [{ index: this.log.lastIndex, peers: [] }];
    this.persistPeers(null);
    if (this.role !== 'Follower') this.becomeFollower(nowMs, this.currentTerm, null);
    else if (this.leaderId !== null) {
      this.leaderId = null;
      this.emitStateChange();
    }
  }

  /** Append to the in-memory log and persist the record (synced) in the same effect batch. */
  appendLocal(e: Entry): void {
    this.appendInMemory(e);
    this.persistEntries([e]);
    if (e.type === 'peers') this.setPeers(JSON.parse(dec.decode(e.data)) as string[], e.index);
  }

  /** Append without writing (the caller persists a batch); a leader appends only its own term. */
  appendInMemory(e: Entry): void {
    check(e.term >= this.log.lastTerm, this.id, 'terms never decrease along the log', () => `entry ${e.index}/t${e.term} after t${this.log.lastTerm}`);
    if (this.role === 'Leader') check(e.term === this.currentTerm, this.id, 'a leader appends only entries of its term', () => `entry ${e.index}/t${e.term} in term ${this.currentTerm}`);
    this.log.append(e);
  }

  /** Drop entries ≥ index (a follower whose log conflicts with its leader's). */
  truncateFrom(index: number): void {
    check(this.role !== 'Leader', this.id, 'a leader never overwrites its log', () => `truncating from ${index}`);
    check(index > this.commit, this.id, 'committed entries are never truncated', () => `truncating from ${index}, commit ${this.commit}`);
    this.log.truncateFrom(index);
    this.persistTruncate(index);
    this.rollbackConfig(index);
  }

  /** Move the commit index (never back, never past the log). */
  setCommit(index: number): void {
    check(index >= this.commit, this.id, 'commit never moves back', () => `${this.commit} → ${index}`);
    check(index <= this.log.lastIndex, this.id, 'commit never passes the log', () => `commit ${index}, last index ${this.log.lastIndex}`);
    if (this.role === 'Leader') {
      check(index <= this.durable.lastIndex, this.id, 'a leader counts only its durable entries', () => `commit ${index}, durable to ${this.durable.lastIndex}`);
    }
    this.commit = index;
  }

  pendingReads(): number {
    return this.readsAwaitingTermCommit.length + this.readsAwaitingQuorum.length + this.readsAwaitingApply.length;
  }
}
