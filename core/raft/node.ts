// core/raft/node.ts — Raft as one pure state machine: RaftNode.step(nowMs, input) → effects.
//
// Owns: the machine's face — building a node (fresh, or recovered from its `raft/` files), the
// read-only accessors the agent, checkers and `consul info` use, and `step`: first-step start
// up, the term rule every message obeys (a newer term makes us a follower; an older one is
// answered with ours), role-independent inputs, then dispatch to the role's step function
// (follower.ts, candidate.ts, leader.ts; as etcd-io/raft's stepFollower/stepCandidate/stepLeader).
// The state lives in context.ts, majority maths in quorum.ts, invariant assertions in
// invariants.ts.
// Must never: do I/O, read a clock, or draw randomness except from the injected Rng.
//
// Effect ordering (the host carries effects out in array order):
//   1. persist term/vote (synced) and log records (synced) BEFORE any send that acknowledges
//      them — a vote, an append success, a leader's own entries it counts toward commit
//      (asserted by the durability ledger in context.ts);
//   2. sends;
//   3. `apply` only for committed entries, in index order, once per node lifetime (after a
//      restart: from the snapshot index on), then the proposeResult/readResult they unblock.
//
// Peer changes (single server, one at a time) take effect on a node when the entry carrying the
// new peer set is appended to its log (Raft dissertation §4.1, as hashicorp/raft does), and
// peers.json is rewritten then. A leader accepts a change only after it committed an entry of
// its own term and while no other change is uncommitted (Ongaro's 2015 single-server fix). At
// start the peer set is read from peers.json (Consul 0.5: it is the live store, and the manual
// recovery input); peer entries already in the log are not replayed.
import type { Rng } from '../rng.ts';
import { makeRng } from '../rng.ts';
import type { Machine } from '../machine.ts';
import { stepCandidate } from './candidate.ts';
import { RaftContext, normalizePeers } from './context.ts';
import { stepFollower } from './follower.ts';
import { goDuration } from './format.ts';
import { checkRecovered } from './invariants.ts';
import { stepLeader } from './leader.ts';
import { RaftLog } from './log.ts';
import { PEERS_PATH, RaftRecoveryError, parsePeersJson } from './peers.ts';
import { onUnreachableFollower } from './replication.ts';
import { onSnapshotTaken } from './snapshot.ts';
import { LOG_PATH, SNAPSHOT_DIR, STATE_PATH, decodeHardState, decodeSnapshot, replayLog, type SnapshotFile } from './storage.ts';
import type { Entry, RaftConfig, RaftEffect, RaftInput, RaftMessage, RaftState } from './types.ts';

export * from './types.ts';
export { RaftRecoveryError } from './peers.ts';
export { RaftInvariantError } from './invariants.ts';

export interface RecoveryDisk {
  read(path: string): Uint8Array | null;
  list(dir: string): string[];
}

type RoleStep = (c: RaftContext, nowMs: number, input: RaftInput) => void;
const ROLE_STEP: Record<RaftState, RoleStep> = { Follower: stepFollower, Candidate: stepCandidate, Leader: stepLeader };

export class RaftNode implements Machine<RaftInput, RaftEffect> {
  readonly config: RaftConfig;
  readonly id: string;
  private readonly c: RaftContext;
  private started = false;
  private startupEffects: RaftEffect[];

  constructor(
    config: RaftConfig,
    opts: {
      rng?: Rng;
      term?: number;
      vote?: string | null;
      log?: RaftLog;
      peers?: string[];
      snapshot?: SnapshotFile | null;
      startupEffects?: RaftEffect[];
    } = {},
  ) {
    this.config = config;
    this.id = config.id;
    this.c = new RaftContext(config, opts.rng ?? makeRng(`raft/${config.id}`), {
      term: opts.term ?? 0,
      vote: opts.vote ?? null,
      log: opts.log ?? new RaftLog(),
      peers: opts.peers ?? [],
      snapshot: opts.snapshot ?? null,
    });
    this.startupEffects = opts.startupEffects ?? [];
  }

  /**
   * Rebuild a node from its `raft/` files. A torn or corrupt log tail is cut (the repair is
   * written on the first step); a malformed peers.json or state file, or files no correct node
   * writes (a log whose terms go back, or pass the recorded term), throw RaftRecoveryError.
   */
  static recover(config: RaftConfig, disk: RecoveryDisk, opts: { rng?: Rng } = {}): RaftNode {
    const startup: RaftEffect[] = [];
    let term = 0;
    let vote: string | null = null;
    const st = disk.read(STATE_PATH);
    if (st) ({ term, vote } = decodeHardState(st));
    let peers: string[] = [];
    const pj = disk.read(PEERS_PATH);
    if (pj) peers = parsePeersJson(pj, PEERS_PATH) ?? [];
    const snapshot = newestSnapshot(disk, startup);
    const entries = readLog(disk, startup);
    const log = snapshot ? logAfterSnapshot(snapshot, entries) : logFromStart(entries);
    checkRecovered(st ? term : null, log.all(), { index: log.snapshotIndex, term: log.snapshotTerm });
    if (snapshot) startup.push({ kind: 'restoreSnapshot', index: snapshot.index, term: snapshot.term, data: snapshot.data });
    return new RaftNode(config, { rng: opts.rng, term, vote, log, peers, snapshot, startupEffects: startup });
  }

  // ------------------------------------------------------------------ accessors

  get state(): RaftState {
    return this.c.role;
  }
  get term(): number {
    return this.c.currentTerm;
  }
  get leader(): string | null {
    return this.c.leaderId;
  }
  get peers(): string[] {
    return this.c.peerSet.slice();
  }
  get commitIndex(): number {
    return this.c.commit;
  }
  get appliedIndex(): number {
    return this.c.applied;
  }
  get lastIndex(): number {
    return this.c.log.lastIndex;
  }
  get lastTerm(): number {
    return this.c.log.lastTerm;
  }
  get vote(): string | null {
    return this.c.votedFor;
  }
  /** Term of the entry at index, null if compacted or absent (checkers use it). */
  termAt(index: number): number | null {
    return this.c.log.term(index);
  }
  entryAt(index: number): Entry | null {
    return this.c.log.entry(index);
  }
  get firstLogIndex(): number {
    return this.c.log.firstIndex;
  }
  /** Leader only: the highest index `peer` is known to hold (null if not a leader or not a
   *  replication target). Read-only, for the simulator's adversaries and checkers. */
  matchOf(peer: string): number | null {
    if (this.c.role !== 'Leader') return null;
    if (peer === this.id) return this.c.log.lastIndex;
    return this.c.progress.get(peer)?.match ?? null;
  }

  stats(nowMs: number): Record<string, string> {
    const c = this.c;
    // hashicorp/raft (Consul 0.5): 'never' until this node heard from a leader; a leader
    // that did prints 0. The walkthrough's freshly elected n2 shows 'never'.
    let lastContact = 'never';
    if (c.lastContactMs !== null) lastContact = c.role === 'Leader' ? '0' : goDuration(nowMs - c.lastContactMs);
    return {
      applied_index: String(c.applied),
      commit_index: String(c.commit),
      fsm_pending: '0',
      last_contact: lastContact,
      last_log_index: String(c.log.lastIndex),
      last_log_term: String(c.log.lastTerm),
      last_snapshot_index: String(c.snapshot?.index ?? 0),
      last_snapshot_term: String(c.snapshot?.term ?? 0),
      num_peers: String(c.peerSet.filter((p) => p !== this.id).length),
      state: c.role,
      term: String(c.currentTerm),
    };
  }

  // ------------------------------------------------------------------ entry point

  step(nowMs: number, input: RaftInput): RaftEffect[] {
    const c = this.c;
    c.out = [];
    if (!this.started) {
      this.started = true;
      c.out.push(...this.startupEffects);
      this.startupEffects = [];
      c.info(`Node at ${this.id} [Follower] entering Follower state`);
      c.emitStateChange();
      c.resetElectionTimer(nowMs);
    }
    if (input.kind === 'receive') {
      if (obeyTerm(c, nowMs, input.from, input.msg)) ROLE_STEP[c.role](c, nowMs, input);
    } else if (input.kind === 'unreachable') {
      onUnreachable(c, input.to, input.reason, input.msg);
    } else if (input.kind === 'bootstrap') {
      onBootstrap(c, nowMs, input.peers);
    } else if (input.kind === 'snapshotTaken') {
      onSnapshotTaken(c, input.index, input.term, input.data);
    } else if (input.kind !== 'start') {
      ROLE_STEP[c.role](c, nowMs, input);
    }
    const out = c.out;
    c.out = [];
    return out;
  }
}

/**
 * The term rule (Figure 2), before any role sees a message: a newer term makes us a follower
 * (except a vote request we refuse while a leader is alive: stickiness; and pre-votes, which
 * change nothing); an older one is answered with our term so a stale leader or candidate
 * learns it, and goes no further. True when the role should handle the message.
 */
function obeyTerm(c: RaftContext, nowMs: number, from: string, msg: RaftMessage): boolean {
  if (msg.term > c.currentTerm) {
    if (msg.t === 'raft.vote') {
      if (c.inLease(nowMs) && !msg.transfer) {
        c.warn(`Rejecting vote from ${from} since we have a leader: ${c.leaderId}`);
        c.send(from, { t: 'raft.voteResp', term: c.currentTerm, granted: false, pre: msg.pre });
        return false;
      }
      if (!msg.pre) c.becomeFollower(nowMs, msg.term, null);
    } else if (msg.t === 'raft.voteResp' && msg.pre && msg.granted) {
      // A granted pre-vote carries the term we asked about; nothing to adopt.
    } else {
      const leader = msg.t === 'raft.append' || msg.t === 'raft.heartbeat' || msg.t === 'raft.snapshot' || msg.t === 'raft.timeoutNow' ? msg.leader : null;
      c.becomeFollower(nowMs, msg.term, leader);
    }
    return true;
  }
  if (msg.term < c.currentTerm) {
    // With CheckQuorum/PreVote nothing else would ever bump a stale sender's term.
    if (msg.t === 'raft.append' || msg.t === 'raft.heartbeat' || msg.t === 'raft.snapshot') {
      c.send(from, { t: 'raft.heartbeatResp', term: c.currentTerm, ctx: 0, sentMs: 0 });
    } else if (msg.t === 'raft.vote') {
      c.send(from, { t: 'raft.voteResp', term: c.currentTerm, granted: false, pre: msg.pre });
    }
    return false;
  }
  return true;
}

function onUnreachable(c: RaftContext, to: string, reason: 'refused' | 'reset' | 'timeout', msg: RaftMessage): void {
  const why = reason === 'reset' ? 'EOF' : reason === 'refused' ? `dial tcp ${to}: connection refused` : 'i/o timeout';
  if (msg.t === 'raft.vote') {
    c.err(`Failed to make RequestVote RPC to ${to}: ${why}`);
    return;
  }
  if (c.role === 'Leader') onUnreachableFollower(c, to, why, msg);
}

/** Consul's -bootstrap-expect: a fresh server learns its first peer set (any role). */
function onBootstrap(c: RaftContext, nowMs: number, peers: string[]): void {
  if (c.log.lastIndex !== 0 || c.currentTerm !== 0) {
    c.warn('Raft data found, ignoring bootstrap');
    return;
  }
  const set = normalizePeers([...peers, c.id]);
  c.peerSet = set;
  c.noPeersWarnedAtMs = null;
  c.configHistory = [{ index: 0, peers: set }];
  c.persistPeers(set);
  if (c.role !== 'Leader') c.resetElectionTimer(nowMs);
}

/** Newest intact snapshot wins; damaged ones are skipped (and reported). */
function newestSnapshot(disk: RecoveryDisk, startup: RaftEffect[]): SnapshotFile | null {
  const snaps = disk.list(SNAPSHOT_DIR).filter((n) => n.endsWith('.snap')).sort().reverse();
  for (const name of snaps) {
    const bytes = disk.read(`${SNAPSHOT_DIR}/${name}`);
    const s = bytes ? decodeSnapshot(bytes) : null;
    if (s) return s;
    startup.push({ kind: 'log', level: 'WARN', source: 'raft', text: `Skipping damaged snapshot ${SNAPSHOT_DIR}/${name}` });
  }
  return null;
}

/** The log's intact prefix; a torn tail is cut (the rewrite is a startup effect). */
function readLog(disk: RecoveryDisk, startup: RaftEffect[]): Entry[] {
  const logBytes = disk.read(LOG_PATH) ?? new Uint8Array(0);
  const replay = replayLog(logBytes, 0);
  if (replay.tornReason) {
    startup.push({
      kind: 'log',
      level: 'WARN',
      source: 'raft',
      text: `${LOG_PATH}: ${replay.tornReason}; truncating the log to its last intact record (${replay.validBytes} of ${logBytes.length} bytes)`,
    });
    startup.push({ kind: 'persist', path: LOG_PATH, data: logBytes.slice(0, replay.validBytes), mode: 'replace', sync: true });
  }
  return replay.entries;
}

function logAfterSnapshot(s: SnapshotFile, entries: Entry[]): RaftLog {
  const first = entries[0];
  const atSnap = entries.find((e) => e.index === s.index);
  if (first && first.index <= s.index && atSnap && atSnap.term === s.term) return new RaftLog(first.index, first.term, entries.slice(1));
  if (first && first.index === s.index + 1) return new RaftLog(s.index, s.term, entries);
  return new RaftLog(s.index, s.term, []);
}

function logFromStart(entries: Entry[]): RaftLog {
  if (entries.length && entries[0]!.index !== 1) {
    throw new RaftRecoveryError(
      LOG_PATH,
      `starts at index ${entries[0]!.index} but no snapshot in ${SNAPSHOT_DIR} covers the entries before it; restore the snapshot or remove the raft data`,
    );
  }
  return new RaftLog(0, 0, entries);
}
