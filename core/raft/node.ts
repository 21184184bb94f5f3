// core/raft/node.ts — Raft as one pure state machine: RaftNode.step(nowMs, input) → effects.
//
// Owns: elections (PreVote, CheckQuorum, leader stickiness), replication (batched, pipelined
// with a bounded in-flight window, fast back-off on conflicts), commit and apply, lease and
// ReadIndex reads, leadership transfer (TimeoutNow), single-server peer changes, snapshots and
// InstallSnapshot, Consul 0.5's live `raft/peers.json`, and `consul info` raft stats.
// Must never: do I/O, read a clock, or draw randomness except from the injected Rng.
//
// Effect ordering (the host carries effects out in array order):
//   1. persist term/vote (synced) and log records (synced) BEFORE any send that acknowledges
//      them — a vote, an append success, a leader's own entries it counts toward commit;
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
import { RaftLog } from './log.ts';
import { Progress } from './progress.ts';
import { goDuration } from './format.ts';
import { PEERS_PATH, RaftRecoveryError, formatPeersJson, parsePeersJson } from './peers.ts';
import {
  LOG_PATH,
  SNAPSHOT_DIR,
  STATE_PATH,
  decodeHardState,
  decodeSnapshot,
  encodeEntryRecord,
  encodeEntryRecords,
  encodeHardState,
  encodeSnapshot,
  encodeTruncateRecord,
  replayLog,
  snapshotPath,
  type SnapshotFile,
} from './storage.ts';
import {
  LEASE_TOO_LONG_FACTOR,
  TIMER_ELECTION,
  TIMER_HEARTBEAT,
  type AppendEntriesMsg,
  type AppendEntriesResp,
  type Entry,
  type HeartbeatMsg,
  type HeartbeatResp,
  type InstallSnapshotMsg,
  type InstallSnapshotResp,
  type RaftConfig,
  type RaftEffect,
  type RaftInput,
  type RaftMessage,
  type RaftState,
  type RequestVoteMsg,
  type RequestVoteResp,
} from './types.ts';

export * from './types.ts';
export { RaftRecoveryError } from './peers.ts';

export interface RecoveryDisk {
  read(path: string): Uint8Array | null;
  list(dir: string): string[];
}

interface PendingRead {
  reqId: number;
  index: number;
  ctx: number;
  acks: Set<string>;
}

const enc = new TextEncoder();
/** Upper bound of an entry's encoded size beyond its data (keys, index, term, type). */
const ENTRY_OVERHEAD_BYTES = 48;
const dec = new TextDecoder();
/** The "no known peers" warning is repeated at most this often (see onElectionTimeout). */
const NO_PEERS_WARN_EVERY_MS = 1000;

export class RaftNode implements Machine<RaftInput, RaftEffect> {
  readonly config: RaftConfig;
  private readonly rng: Rng;
  readonly id: string;

  private currentTerm = 0;
  private votedFor: string | null = null;
  private log: RaftLog;
  private commit = 0;
  private applied = 0;
  private role: RaftState = 'Follower';
  private leaderId: string | null = null;
  private peerSet: string[];
  /** Peer sets this lifetime appended, so a truncated peer entry can be rolled back. */
  private configHistory: { index: number; peers: string[] }[];

  private lastContactMs: number | null = null;
  /** When "no known peers" was last logged; null = not since the peer set last changed. */
  private noPeersWarnedAtMs: number | null = null;
  private started = false;
  private startupEffects: RaftEffect[] = [];

  // candidate
  private votes = new Map<string, boolean>();
  private preVoting = false;
  private transferCampaign = false;

  // leader
  private progress = new Map<string, Progress>();
  private pendingProposals = new Map<number, number>(); // index → reqId
  private committedInTerm = false;
  private pendingConfigIndex = 0;
  private leaving = false;
  private leaveIndex = 0;
  private quorumCheckAtMs = 0;
  private transferTarget: string | null = null;
  private transferDeadlineMs = 0;
  private readCtx = 0;
  private readsAwaitingTermCommit: { reqId: number }[] = [];
  private readsAwaitingQuorum: PendingRead[] = [];
  private readsAwaitingApply: { reqId: number; index: number }[] = [];

  // snapshots
  private snapshot: SnapshotFile | null;
  private snapshotPending = false;

  private out: RaftEffect[] = [];

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
    this.rng = opts.rng ?? makeRng(`raft/${config.id}`);
    this.currentTerm = opts.term ?? 0;
    this.votedFor = opts.vote ?? null;
    this.log = opts.log ?? new RaftLog();
    this.snapshot = opts.snapshot ?? null;
    this.peerSet = normalizePeers(opts.peers ?? []);
    this.configHistory = [{ index: 0, peers: this.peerSet }];
    if (this.snapshot) {
      this.commit = this.snapshot.index;
      this.applied = this.snapshot.index;
    }
    this.startupEffects = opts.startupEffects ?? [];
  }

  /**
   * Rebuild a node from its `raft/` files. A torn or corrupt log tail is cut (the repair is
   * written on the first step); a malformed peers.json or state file throws RaftRecoveryError.
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

    // Newest intact snapshot wins; damaged ones are skipped (and reported).
    let snapshot: SnapshotFile | null = null;
    const snaps = disk.list(SNAPSHOT_DIR).filter((n) => n.endsWith('.snap')).sort().reverse();
    for (const name of snaps) {
      const bytes = disk.read(`${SNAPSHOT_DIR}/${name}`);
      const s = bytes ? decodeSnapshot(bytes) : null;
      if (s) {
        snapshot = s;
        break;
      }
      startup.push({ kind: 'log', level: 'WARN', source: 'raft', text: `Skipping damaged snapshot ${SNAPSHOT_DIR}/${name}` });
    }

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
    const entries = replay.entries;
    let log: RaftLog;
    if (snapshot) {
      const s = snapshot;
      const first = entries[0];
      const atSnap = entries.find((e) => e.index === s.index);
      if (first && first.index <= s.index && atSnap && atSnap.term === s.term) {
        log = new RaftLog(first.index, first.term, entries.slice(1));
      } else if (first && first.index === s.index + 1) {
        log = new RaftLog(s.index, s.term, entries);
      } else {
        log = new RaftLog(s.index, s.term, []);
      }
      startup.push({ kind: 'restoreSnapshot', index: s.index, term: s.term, data: s.data });
    } else {
      if (entries.length && entries[0]!.index !== 1) {
        throw new RaftRecoveryError(
          LOG_PATH,
          `starts at index ${entries[0]!.index} but no snapshot in ${SNAPSHOT_DIR} covers the entries before it; restore the snapshot or remove the raft data`,
        );
      }
      log = new RaftLog(0, 0, entries);
    }
    return new RaftNode(config, { rng: opts.rng, term, vote, log, peers, snapshot, startupEffects: startup });
  }

  // ------------------------------------------------------------------ accessors

  get state(): RaftState {
    return this.role;
  }
  get term(): number {
    return this.currentTerm;
  }
  get leader(): string | null {
    return this.leaderId;
  }
  get peers(): string[] {
    return this.peerSet.slice();
  }
  get commitIndex(): number {
    return this.commit;
  }
  get appliedIndex(): number {
    return this.applied;
  }
  get lastIndex(): number {
    return this.log.lastIndex;
  }
  get lastTerm(): number {
    return this.log.lastTerm;
  }
  get vote(): string | null {
    return this.votedFor;
  }
  /** Term of the entry at index, null if compacted or absent (checkers use it). */
  termAt(index: number): number | null {
    return this.log.term(index);
  }
  entryAt(index: number): Entry | null {
    return this.log.entry(index);
  }
  get firstLogIndex(): number {
    return this.log.firstIndex;
  }
  /** Leader only: the highest index `peer` is known to hold (null if not a leader or not a
   *  replication target). Read-only, for the simulator's adversaries and checkers. */
  matchOf(peer: string): number | null {
    if (this.role !== 'Leader') return null;
    if (peer === this.id) return this.log.lastIndex;
    return this.progress.get(peer)?.match ?? null;
  }

  stats(nowMs: number): Record<string, string> {
    // hashicorp/raft (Consul 0.5): 'never' until this node heard from a leader; a leader
    // that did prints 0. The walkthrough's freshly elected n2 shows 'never'.
    let lastContact = 'never';
    if (this.lastContactMs !== null) lastContact = this.role === 'Leader' ? '0' : goDuration(nowMs - this.lastContactMs);
    return {
      applied_index: String(this.applied),
      commit_index: String(this.commit),
      fsm_pending: '0',
      last_contact: lastContact,
      last_log_index: String(this.log.lastIndex),
      last_log_term: String(this.log.lastTerm),
      last_snapshot_index: String(this.snapshot?.index ?? 0),
      last_snapshot_term: String(this.snapshot?.term ?? 0),
      num_peers: String(this.peerSet.filter((p) => p !== this.id).length),
      state: this.role,
      term: String(this.currentTerm),
    };
  }

  // ------------------------------------------------------------------ entry point

  step(nowMs: number, input: RaftInput): RaftEffect[] {
    this.out = [];
    if (!this.started) {
      this.started = true;
      this.out.push(...this.startupEffects);
      this.startupEffects = [];
      this.info(`Node at ${this.id} [Follower] entering Follower state`);
      this.emitStateChange();
      this.resetElectionTimer(nowMs);
    }
    switch (input.kind) {
      case 'start':
        break;
      case 'timer':
        if (input.name === TIMER_ELECTION) this.onElectionTimeout(nowMs);
        else if (input.name === TIMER_HEARTBEAT) this.onHeartbeatTick(nowMs);
        break;
      case 'receive':
        this.onMessage(nowMs, input.from, input.msg);
        break;
      case 'unreachable':
        this.onUnreachable(input.to, input.reason, input.msg);
        break;
      case 'propose':
        this.onPropose(nowMs, [{ reqId: input.reqId, data: input.data }]);
        break;
      case 'proposeBatch':
        this.onPropose(nowMs, input.items);
        break;
      case 'read':
        this.onRead(nowMs, input.reqId, input.mode);
        break;
      case 'addPeer':
        this.onChangePeers(nowMs, 'add', input.addr, input.reqId);
        break;
      case 'removePeer':
        this.onChangePeers(nowMs, 'remove', input.addr, input.reqId);
        break;
      case 'bootstrap':
        this.onBootstrap(nowMs, input.peers);
        break;
      case 'transferLeadership':
        this.onTransferLeadership(nowMs, input.to);
        break;
      case 'leave':
        this.onLeave(nowMs);
        break;
      case 'snapshotTaken':
        this.onSnapshotTaken(input.index, input.term, input.data);
        break;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  // ------------------------------------------------------------------ helpers

  private info(text: string): void {
    this.out.push({ kind: 'log', level: 'INFO', source: 'raft', text });
  }
  private warn(text: string): void {
    this.out.push({ kind: 'log', level: 'WARN', source: 'raft', text });
  }
  private err(text: string): void {
    this.out.push({ kind: 'log', level: 'ERR', source: 'raft', text });
  }
  private send(to: string, msg: RaftMessage): void {
    this.out.push({ kind: 'send', fromPort: this.config.port, to, via: this.config.via ?? 'tcp', msg });
  }
  private emitStateChange(): void {
    this.out.push({ kind: 'stateChange', state: this.role, term: this.currentTerm, leader: this.leaderId });
  }
  private persistHardState(sync = true): void {
    this.out.push({ kind: 'persist', path: STATE_PATH, data: encodeHardState(this.currentTerm, this.votedFor), mode: 'replace', sync });
  }
  private persistPeers(peersOrNull: string[] | null): void {
    this.out.push({ kind: 'persist', path: PEERS_PATH, data: formatPeersJson(peersOrNull), mode: 'replace', sync: true });
  }

  private others(): string[] {
    return this.peerSet.filter((p) => p !== this.id);
  }
  private isVoter(): boolean {
    return this.peerSet.includes(this.id);
  }
  private quorum(): number {
    return Math.floor(this.peerSet.length / 2) + 1;
  }
  /** Alone without -bootstrap, or removed: Consul's "no known peers". */
  private canCampaign(): boolean {
    if (!this.isVoter()) return false;
    return this.peerSet.length > 1 || this.config.enableSingleNode;
  }

  private resetElectionTimer(nowMs: number): void {
    const t = this.config.electionTimeoutMs;
    this.out.push({ kind: 'timer', name: TIMER_ELECTION, atMs: nowMs + t + this.rng.int(t) });
  }

  /** The newest peer set recorded in the log (or the snapshot), null when none is. */
  private lastLoggedPeers(): string[] | null {
    for (let i = this.log.lastIndex; i >= this.log.firstIndex && i > this.log.snapshotIndex; i--) {
      const e = this.log.entry(i);
      if (e && e.type === 'peers') return normalizePeers(JSON.parse(dec.decode(e.data)) as string[]);
    }
    const base = this.configHistory[0];
    return base && base.index > 0 ? base.peers : null;
  }

  private setPeers(peers: string[], index: number): void {
    this.peerSet = normalizePeers(peers);
    this.noPeersWarnedAtMs = null;
    this.configHistory.push({ index, peers: this.peerSet });
    // Consul 0.5: a server no longer in the set keeps only itself.
    this.persistPeers(this.peerSet.includes(this.id) ? this.peerSet : [this.id]);
  }

  // ------------------------------------------------------------------ role changes

  private becomeFollower(nowMs: number, term: number, leader: string | null): void {
    const wasLeader = this.role === 'Leader';
    const changed = this.role !== 'Follower' || term !== this.currentTerm || leader !== this.leaderId;
    if (term !== this.currentTerm) {
      this.currentTerm = term;
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

  private onElectionTimeout(nowMs: number): void {
    if (this.role === 'Leader') return;
    if (!this.canCampaign()) {
      // hashicorp/raft forgets the leader on a heartbeat timeout even when it may not campaign:
      // `consul info` and X-Consul-KnownLeader must not keep naming a leader that went away.
      if (this.leaderId !== null) {
        this.leaderId = null;
        this.emitStateChange();
      }
      // hashicorp/raft 0.5 logs this once per heartbeat timeout (1–2 s); our election timer
      // fires 2–3×/s, so repeating it every time would flood a lone server's log. Once per
      // second per node keeps the walkthrough's line visible without the noise; a change of
      // the peer set resets the clock so the first abort after it is always shown.
      if (this.noPeersWarnedAtMs === null || nowMs - this.noPeersWarnedAtMs >= NO_PEERS_WARN_EVERY_MS) {
        this.noPeersWarnedAtMs = nowMs;
        this.warn('EnableSingleNode disabled, and no known peers. Aborting election.');
      }
      this.resetElectionTimer(nowMs);
      return;
    }
    if (this.role === 'Candidate') this.warn('Election timeout reached, restarting election');
    else this.warn('Heartbeat timeout reached, starting election');
    if (this.leaderId !== null) {
      this.leaderId = null;
      this.emitStateChange();
    }
    // A candidate whose election timed out has already passed a pre-vote; it retries directly.
    if (this.config.preVote && this.role === 'Follower') this.startPreVote(nowMs);
    else this.campaign(nowMs, false);
  }

  private startPreVote(nowMs: number): void {
    this.preVoting = true;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer(nowMs);
    if (this.tally(true) >= this.quorum()) {
      this.campaign(nowMs, false);
      return;
    }
    for (const p of this.others()) {
      this.send(p, {
        t: 'raft.vote',
        term: this.currentTerm + 1,
        candidate: this.id,
        lastLogIndex: this.log.lastIndex,
        lastLogTerm: this.log.lastTerm,
        pre: true,
        transfer: false,
      });
    }
  }

  private campaign(nowMs: number, transfer: boolean): void {
    this.preVoting = false;
    this.transferCampaign = transfer;
    this.role = 'Candidate';
    this.currentTerm += 1;
    this.votedFor = this.id;
    this.leaderId = null;
    this.info(`Node at ${this.id} [Candidate] entering Candidate state`);
    this.persistHardState();
    this.emitStateChange();
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer(nowMs);
    if (this.tally(true) >= this.quorum()) {
      this.becomeLeader(nowMs);
      return;
    }
    this.requestVotes();
    // "Servers retry RPCs if they do not receive a response in a timely manner" (§5.1): a
    // candidate re-asks silent peers every heartbeat interval until the election times out.
    this.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + this.config.heartbeatIntervalMs });
  }

  private requestVotes(): void {
    for (const p of this.others()) {
      if (this.votes.has(p)) continue;
      this.send(p, {
        t: 'raft.vote',
        term: this.currentTerm,
        candidate: this.id,
        lastLogIndex: this.log.lastIndex,
        lastLogTerm: this.log.lastTerm,
        pre: false,
        transfer: this.transferCampaign,
      });
    }
  }

  private tally(granted: boolean): number {
    let n = 0;
    for (const [p, g] of this.votes) if (g === granted && this.peerSet.includes(p)) n++;
    return n;
  }

  private becomeLeader(nowMs: number): void {
    this.info(`Election won. Tally: ${this.tally(true)}`);
    this.role = 'Leader';
    this.leaderId = this.id;
    this.votes.clear();
    this.info(`Node at ${this.id} [Leader] entering Leader state`);
    this.emitStateChange();
    this.out.push({ kind: 'cancelTimer', name: TIMER_ELECTION });
    this.progress.clear();
    for (const p of this.others()) this.progress.set(p, new Progress(this.log.lastIndex + 1));
    this.committedInTerm = false;
    this.pendingConfigIndex = 0;
    this.quorumCheckAtMs = nowMs + this.config.electionTimeoutMs;
    // The no-op lets the leader commit (and so learn the commit index) in its own term.
    this.appendLocal({ index: this.log.lastIndex + 1, term: this.currentTerm, type: 'noop', data: new Uint8Array(0) });
    // A peer set that came from peers.json (bootstrap, or the manual recovery of the
    // walkthrough) is not in the log yet: write it there, so followers that were not
    // restarted learn it too (otherwise a recovered follower keeps believing it is alone).
    const logged = this.lastLoggedPeers();
    if (logged === null || logged.join(',') !== this.peerSet.join(',')) {
      const index = this.log.lastIndex + 1;
      this.appendLocal({ index, term: this.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(this.peerSet)) });
      this.pendingConfigIndex = index;
    }
    this.broadcastAppend(nowMs);
    this.maybeCommit(nowMs);
    this.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + this.config.heartbeatIntervalMs });
  }

  // ------------------------------------------------------------------ messages

  private onMessage(nowMs: number, from: string, msg: RaftMessage): void {
    if (msg.term > this.currentTerm) {
      if (msg.t === 'raft.vote') {
        if (this.inLease(nowMs) && !msg.transfer) {
          this.warn(`Rejecting vote from ${from} since we have a leader: ${this.leaderId}`);
          this.send(from, { t: 'raft.voteResp', term: this.currentTerm, granted: false, pre: msg.pre });
          return;
        }
        if (!msg.pre) this.becomeFollower(nowMs, msg.term, null);
      } else if (msg.t === 'raft.voteResp' && msg.pre && msg.granted) {
        // A granted pre-vote carries the term we asked about; nothing to adopt.
      } else {
        const leader = msg.t === 'raft.append' || msg.t === 'raft.heartbeat' || msg.t === 'raft.snapshot' || msg.t === 'raft.timeoutNow' ? msg.leader : null;
        this.becomeFollower(nowMs, msg.term, leader);
      }
    } else if (msg.term < this.currentTerm) {
      // Tell a stale leader (or pre-candidate) about the newer term so it steps down; with
      // CheckQuorum/PreVote nothing else would ever bump it.
      if (msg.t === 'raft.append' || msg.t === 'raft.heartbeat' || msg.t === 'raft.snapshot') {
        this.send(from, { t: 'raft.heartbeatResp', term: this.currentTerm, ctx: 0, sentMs: 0 });
      } else if (msg.t === 'raft.vote') {
        this.send(from, { t: 'raft.voteResp', term: this.currentTerm, granted: false, pre: msg.pre });
      }
      return;
    }
    switch (msg.t) {
      case 'raft.vote':
        this.onRequestVote(nowMs, from, msg);
        break;
      case 'raft.voteResp':
        this.onVoteResp(nowMs, from, msg);
        break;
      case 'raft.append':
        this.onAppend(nowMs, from, msg);
        break;
      case 'raft.appendResp':
        this.onAppendResp(nowMs, from, msg);
        break;
      case 'raft.heartbeat':
        this.onHeartbeat(nowMs, from, msg);
        break;
      case 'raft.heartbeatResp':
        this.onHeartbeatResp(nowMs, from, msg);
        break;
      case 'raft.snapshot':
        this.onInstallSnapshot(nowMs, from, msg);
        break;
      case 'raft.snapshotResp':
        this.onSnapshotResp(nowMs, from, msg);
        break;
      case 'raft.timeoutNow':
        if (this.role === 'Follower' && this.canCampaign()) {
          this.info(`Received TimeoutNow from ${from}, starting election`);
          this.campaign(nowMs, true);
        }
        break;
    }
  }

  /** Leader stickiness: we heard from a live leader less than a minimum election timeout ago. */
  private inLease(nowMs: number): boolean {
    if (!this.config.checkQuorum) return false;
    if (this.role === 'Leader') return true;
    return this.leaderId !== null && this.lastContactMs !== null && nowMs - this.lastContactMs < this.config.electionTimeoutMs;
  }

  private onRequestVote(nowMs: number, from: string, m: RequestVoteMsg): void {
    const upToDate = m.lastLogTerm > this.log.lastTerm || (m.lastLogTerm === this.log.lastTerm && m.lastLogIndex >= this.log.lastIndex);
    let canVote: boolean;
    if (m.pre) canVote = m.term > this.currentTerm && !this.inLease(nowMs);
    else canVote = this.votedFor === m.candidate || (this.votedFor === null && this.leaderId === null) || !!this.config.bugs?.doubleVote;
    if (this.role === 'Leader' && !m.pre && !this.config.bugs?.doubleVote) canVote = false;
    const granted = canVote && upToDate;
    if (granted && !m.pre) {
      this.votedFor = m.candidate;
      this.persistHardState(!this.config.bugs?.noFsyncVote);
      this.resetElectionTimer(nowMs);
    }
    this.send(from, { t: 'raft.voteResp', term: granted && m.pre ? m.term : this.currentTerm, granted, pre: m.pre });
  }

  private onVoteResp(nowMs: number, from: string, m: RequestVoteResp): void {
    if (m.pre) {
      if (!this.preVoting || this.role !== 'Follower') return;
      if (m.granted && m.term !== this.currentTerm + 1) return;
      this.votes.set(from, m.granted);
      if (this.tally(true) >= this.quorum()) this.campaign(nowMs, false);
      else if (this.tally(false) >= this.quorum()) this.preVoting = false;
      return;
    }
    if (this.role !== 'Candidate') return;
    this.votes.set(from, m.granted);
    if (this.tally(true) >= this.quorum()) this.becomeLeader(nowMs);
    else if (this.tally(false) >= this.quorum()) this.becomeFollower(nowMs, this.currentTerm, null);
  }

  private noteLeader(nowMs: number, leader: string): void {
    this.lastContactMs = nowMs;
    if (this.role !== 'Follower' || this.leaderId !== leader) {
      this.becomeFollower(nowMs, this.currentTerm, leader);
    } else {
      this.resetElectionTimer(nowMs);
    }
  }

  private onAppend(nowMs: number, from: string, m: AppendEntriesMsg): void {
    if (this.role === 'Leader') return; // same term, two leaders: impossible unless a bug; ignore
    this.noteLeader(nowMs, m.leader);
    let prev = m.prevLogIndex;
    let prevTerm = m.prevLogTerm;
    let entries = m.entries;
    const base = this.log.snapshotIndex;
    if (prev < base) {
      // Entries up to our compaction point are committed and so match the leader's.
      entries = entries.filter((e) => e.index > base);
      if (entries.length === 0) {
        this.send(from, this.appendOk(Math.max(base, Math.min(m.prevLogIndex + m.entries.length, this.commit))));
        return;
      }
      prev = base;
      prevTerm = this.log.snapshotTerm;
    }
    const haveTerm = this.log.term(prev);
    if (haveTerm !== prevTerm) {
      let conflictTerm = 0;
      let conflictIndex = this.log.lastIndex + 1;
      if (haveTerm !== null) {
        conflictTerm = haveTerm;
        conflictIndex = Math.max(this.log.firstIndexOfTermAt(prev), this.commit + 1);
      }
      this.send(from, { t: 'raft.appendResp', term: this.currentTerm, success: false, matchIndex: 0, rejectedIndex: m.prevLogIndex, conflictTerm, conflictIndex });
      return;
    }
    const fresh: Entry[] = [];
    for (const e of entries) {
      if (fresh.length === 0) {
        const t = this.log.term(e.index);
        if (t === e.term) continue;
        if (t !== null) {
          if (e.index <= this.commit) {
            this.err(`refusing to overwrite committed entry ${e.index}; leader ${from} disagrees with the committed log`);
            return;
          }
          this.log.truncateFrom(e.index);
          this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeTruncateRecord(e.index), mode: 'append', sync: true });
          this.rollbackConfig(e.index);
        }
      }
      fresh.push(e);
    }
    for (const e of fresh) this.appendLocal(e);
    const lastNew = prev + entries.length;
    this.send(from, this.appendOk(lastNew));
    this.commitTo(nowMs, Math.min(m.leaderCommit, lastNew));
  }

  private appendOk(matchIndex: number): AppendEntriesResp {
    return { t: 'raft.appendResp', term: this.currentTerm, success: true, matchIndex, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0 };
  }

  /** Append to the in-memory log and persist the record (synced) in the same effect batch. */
  private appendLocal(e: Entry): void {
    this.log.append(e);
    this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeEntryRecord(e), mode: 'append', sync: true });
    if (e.type === 'peers') this.setPeers(JSON.parse(dec.decode(e.data)) as string[], e.index);
  }

  private rollbackConfig(fromIndex: number): void {
    const before = this.configHistory.length;
    while (this.configHistory.length > 1 && this.configHistory[this.configHistory.length - 1]!.index >= fromIndex) this.configHistory.pop();
    if (this.configHistory.length !== before) {
      this.peerSet = this.configHistory[this.configHistory.length - 1]!.peers;
      this.persistPeers(this.peerSet.includes(this.id) ? this.peerSet : [this.id]);
    }
  }

  private onHeartbeat(nowMs: number, from: string, m: HeartbeatMsg): void {
    if (this.role === 'Leader') return;
    this.noteLeader(nowMs, m.leader);
    this.commitTo(nowMs, Math.min(m.commit, this.log.lastIndex));
    this.send(from, { t: 'raft.heartbeatResp', term: this.currentTerm, ctx: m.ctx, sentMs: m.sentMs });
  }

  private onInstallSnapshot(nowMs: number, from: string, m: InstallSnapshotMsg): void {
    if (this.role === 'Leader') return;
    this.noteLeader(nowMs, m.leader);
    if (m.index <= this.commit) {
      this.send(from, { t: 'raft.snapshotResp', term: this.currentTerm, index: m.index, success: true });
      return;
    }
    this.info(`Installing snapshot ${m.index} (term ${m.lastTerm}) from ${from}`);
    const snap: SnapshotFile = { index: m.index, term: m.lastTerm, peers: m.peers, data: m.data };
    this.writeSnapshot(snap);
    this.log.compactTo(m.index, m.lastTerm);
    this.rewriteLogFile(null);
    this.out.push({ kind: 'restoreSnapshot', index: m.index, term: m.lastTerm, data: m.data });
    this.commit = m.index;
    this.applied = m.index;
    this.configHistory = [{ index: m.index, peers: normalizePeers(m.peers) }];
    this.peerSet = this.configHistory[0]!.peers;
    this.persistPeers(this.peerSet.includes(this.id) ? this.peerSet : [this.id]);
    this.send(from, { t: 'raft.snapshotResp', term: this.currentTerm, index: m.index, success: true });
  }

  private writeSnapshot(snap: SnapshotFile): void {
    const old = this.snapshot;
    this.out.push({ kind: 'persist', path: snapshotPath(snap.index, snap.term), data: encodeSnapshot(snap), mode: 'replace', sync: true });
    this.snapshot = snap;
    if (old && snapshotPath(old.index, old.term) !== snapshotPath(snap.index, snap.term)) {
      this.out.push({ kind: 'removeFile', path: snapshotPath(old.index, old.term) });
    }
  }

  /** Rewrite log.bin atomically with the retained entries (anchor = entry at the log base, if any). */
  private rewriteLogFile(anchor: Entry | null): void {
    const entries = anchor ? [anchor, ...this.log.all()] : this.log.all();
    this.out.push({ kind: 'persist', path: LOG_PATH, data: encodeEntryRecords(entries), mode: 'replace', sync: true });
  }

  // ------------------------------------------------------------------ leader: replication

  private broadcastAppend(nowMs: number): void {
    for (const p of [...this.progress.keys()].sort()) this.sendAppend(nowMs, p);
  }

  private sendAppend(nowMs: number, peer: string): void {
    const pr = this.progress.get(peer);
    if (!pr) return;
    if (pr.state === 'snapshot') return;
    if (pr.state === 'probe' && pr.paused) return;
    if (pr.next <= this.log.snapshotIndex) {
      this.sendSnapshot(nowMs, peer, pr);
      return;
    }
    do {
      if (pr.state === 'replicate' && pr.inflightFull(this.config.maxInflight)) return;
      const prev = pr.next - 1;
      const entries = this.limitBytes(this.log.slice(pr.next, this.log.lastIndex, this.config.maxAppendEntries));
      if (pr.state === 'replicate' && entries.length === 0) return;
      this.send(peer, {
        t: 'raft.append',
        term: this.currentTerm,
        leader: this.id,
        prevLogIndex: prev,
        prevLogTerm: this.log.term(prev) ?? 0,
        entries,
        leaderCommit: this.commit,
      });
      if (pr.state === 'probe') {
        pr.paused = true;
        return;
      }
      const last = entries[entries.length - 1]!.index;
      pr.inflight.push(last);
      pr.next = last + 1;
    } while (pr.next <= this.log.lastIndex);
  }

  /** Keep a batch under the transport's size budget (datagrams carry at most 1400 bytes). */
  private limitBytes(entries: Entry[]): Entry[] {
    const budget = this.config.maxAppendBytes ?? ((this.config.via ?? 'tcp') === 'udp' ? 1000 : 4 * 1024 * 1024);
    let used = 0;
    let n = 0;
    for (const e of entries) {
      used += e.data.length + ENTRY_OVERHEAD_BYTES;
      if (n > 0 && used > budget) break;
      n++;
    }
    return n === entries.length ? entries : entries.slice(0, n);
  }

  private sendSnapshot(nowMs: number, peer: string, pr: Progress): void {
    const s = this.snapshot;
    if (!s) return;
    pr.becomeSnapshot(s.index, nowMs);
    this.info(`Sending snapshot ${s.index} to ${peer}`);
    this.send(peer, { t: 'raft.snapshot', term: this.currentTerm, leader: this.id, index: s.index, lastTerm: s.term, peers: s.peers ?? this.peerSet, data: s.data });
  }

  private onAppendResp(nowMs: number, from: string, m: AppendEntriesResp): void {
    if (this.role !== 'Leader') return;
    const pr = this.progress.get(from);
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
          this.info(`pipelining replication to peer ${from}`);
        }
      }
      pr.freeTo(m.matchIndex);
      this.maybeCommit(nowMs);
      this.maybeSendTimeoutNow(from);
      this.sendAppend(nowMs, from);
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
      const li = this.log.lastIndexOfTerm(m.conflictTerm);
      if (li > 0) next = li + 1;
    }
    next = Math.max(pr.match + 1, Math.min(next, m.rejectedIndex));
    pr.becomeProbe();
    pr.next = next;
    this.sendAppend(nowMs, from);
  }

  private onHeartbeatResp(nowMs: number, from: string, m: HeartbeatResp): void {
    if (this.role !== 'Leader') return;
    const pr = this.progress.get(from);
    if (!pr) return;
    pr.recentActive = true;
    pr.failing = false;
    if (m.sentMs > pr.ackedSentMs) pr.ackedSentMs = m.sentMs;
    for (const r of this.readsAwaitingQuorum) if (m.ctx >= r.ctx) r.acks.add(from);
    this.advanceReads();
    if (pr.state === 'probe') pr.paused = false;
    if (pr.match < this.log.lastIndex) this.sendAppend(nowMs, from);
  }

  private onSnapshotResp(nowMs: number, from: string, m: InstallSnapshotResp): void {
    if (this.role !== 'Leader') return;
    const pr = this.progress.get(from);
    if (!pr) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot') return;
    if (m.success) pr.match = Math.max(pr.match, m.index);
    pr.next = pr.match + 1;
    pr.becomeProbe();
    this.maybeCommit(nowMs);
    this.sendAppend(nowMs, from);
  }

  private onUnreachable(to: string, reason: 'refused' | 'reset' | 'timeout', msg: RaftMessage): void {
    const why = reason === 'reset' ? 'EOF' : reason === 'refused' ? `dial tcp ${to}: connection refused` : 'i/o timeout';
    if (msg.t === 'raft.vote') {
      this.err(`Failed to make RequestVote RPC to ${to}: ${why}`);
      return;
    }
    if (this.role !== 'Leader') return;
    const pr = this.progress.get(to);
    if (!pr) return;
    if (msg.t === 'raft.append' || msg.t === 'raft.snapshot') {
      if (!pr.failing) this.err(`Failed to AppendEntries to ${to}: ${why}`);
      pr.failing = true;
      if (pr.state !== 'probe') pr.becomeProbe();
      pr.paused = false;
    }
  }

  private maybeCommit(nowMs: number): void {
    if (this.role !== 'Leader') return;
    const matches: number[] = [];
    for (const p of this.peerSet) matches.push(p === this.id ? this.log.lastIndex : (this.progress.get(p)?.match ?? 0));
    matches.sort((a, b) => b - a);
    const q = this.quorum();
    if (matches.length < q) return;
    const n = matches[q - 1]!;
    if (n <= this.commit) return;
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (this.log.term(n) !== this.currentTerm && !this.config.bugs?.commitOldTerm) return;
    this.commitTo(nowMs, n);
  }

  private commitTo(nowMs: number, index: number): void {
    if (index <= this.commit) return;
    this.commit = index;
    if (this.role === 'Leader' && !this.committedInTerm && this.log.term(index) === this.currentTerm) {
      this.committedInTerm = true;
      this.startAwaitingReads(nowMs);
    }
    this.applyCommitted(nowMs);
  }

  private applyCommitted(nowMs: number): void {
    while (this.applied < this.commit) {
      const i = this.applied + 1;
      const e = this.log.entry(i);
      if (!e) break;
      this.applied = i;
      if (e.type === 'cmd') this.out.push({ kind: 'apply', index: e.index, term: e.term, data: e.data });
      const reqId = this.pendingProposals.get(i);
      if (reqId !== undefined) {
        this.pendingProposals.delete(i);
        this.out.push({ kind: 'proposeResult', reqId, ok: true, index: i });
      }
    }
    this.advanceReads();
    if (this.leaving && this.role === 'Leader' && this.commit >= this.leaveIndex) this.finishLeave(nowMs);
    if (!this.snapshotPending && this.applied - (this.snapshot?.index ?? 0) >= this.config.snapshotThreshold) {
      this.snapshotPending = true;
      this.out.push({ kind: 'takeSnapshot', index: this.applied });
    }
  }

  private onHeartbeatTick(nowMs: number): void {
    if (this.role === 'Candidate') {
      this.requestVotes();
      this.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + this.config.heartbeatIntervalMs });
      return;
    }
    if (this.role !== 'Leader') return;
    this.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + this.config.heartbeatIntervalMs });
    if (this.config.checkQuorum && nowMs >= this.quorumCheckAtMs) {
      let active = 1;
      for (const p of this.others()) {
        const pr = this.progress.get(p);
        if (pr?.recentActive) active++;
        if (pr) pr.recentActive = false;
      }
      this.quorumCheckAtMs = nowMs + this.config.electionTimeoutMs;
      // Planted bug: a leader that trusts its (too long) lease keeps leading while it lasts.
      const trustsLease = !!this.config.bugs?.leaseTooLong && this.leaseValid(nowMs);
      if (active < this.quorum() && !trustsLease) {
        this.warn('Failed to contact quorum of nodes, stepping down');
        this.becomeFollower(nowMs, this.currentTerm, null);
        return;
      }
    }
    if (this.transferTarget && nowMs >= this.transferDeadlineMs) {
      this.warn(`Leadership transfer to ${this.transferTarget} timed out`);
      this.transferTarget = null;
    }
    for (const p of [...this.progress.keys()].sort()) {
      const pr = this.progress.get(p)!;
      if (pr.state === 'snapshot' && nowMs - pr.snapshotSentMs > 4 * this.config.electionTimeoutMs) pr.becomeProbe();
      // No progress over a whole heartbeat interval while behind: appends (or their answers)
      // were lost. Resend from the known match instead of waiting for the window to drain.
      const stalled = pr.match < this.log.lastIndex && pr.match === pr.matchAtLastBeat;
      if (stalled && pr.state === 'replicate') pr.becomeProbe();
      else if (stalled && pr.state === 'probe') pr.paused = false;
      pr.matchAtLastBeat = pr.match;
      this.sendHeartbeat(nowMs, p, pr);
      if (stalled) this.sendAppend(nowMs, p);
    }
  }

  private sendHeartbeat(nowMs: number, peer: string, pr: Progress): void {
    this.send(peer, { t: 'raft.heartbeat', term: this.currentTerm, leader: this.id, commit: Math.min(pr.match, this.commit), ctx: this.readCtx, sentMs: nowMs });
  }

  // ------------------------------------------------------------------ commands

  private notLeaderError(): { error: string; leader?: string } {
    if (this.leaderId === null) return { error: 'No cluster leader' };
    return { error: 'not leader', leader: this.leaderId };
  }

  /**
   * Append client entries. All of them go into one log write with one sync (group commit),
   * and the AppendEntries go out BEFORE the leader's own write: followers persist in parallel
   * with the leader (Raft thesis §10.2.1, as etcd does). Safe because the leader counts itself
   * toward a majority only through maybeCommit, which runs after the write in this same
   * effect batch, and the host carries out a batch in order without interruption.
   */
  private onPropose(nowMs: number, items: { reqId: number; data: Uint8Array }[]): void {
    if (this.role !== 'Leader') {
      for (const { reqId } of items) this.out.push({ kind: 'proposeResult', reqId, ok: false, ...this.notLeaderError() });
      return;
    }
    if (this.transferTarget || this.leaving) {
      const error = this.leaving ? 'leaving' : 'leadership transfer in progress';
      for (const { reqId } of items) this.out.push({ kind: 'proposeResult', reqId, ok: false, error, leader: this.id });
      return;
    }
    if (items.length === 0) return;
    const records: Uint8Array[] = [];
    let bytes = 0;
    for (const { reqId, data } of items) {
      const e: Entry = { index: this.log.lastIndex + 1, term: this.currentTerm, type: 'cmd', data };
      this.log.append(e);
      const rec = encodeEntryRecord(e);
      records.push(rec);
      bytes += rec.length;
      this.pendingProposals.set(e.index, reqId);
    }
    this.broadcastAppend(nowMs);
    const all = new Uint8Array(bytes);
    let at = 0;
    for (const r of records) {
      all.set(r, at);
      at += r.length;
    }
    this.out.push({ kind: 'persist', path: LOG_PATH, data: all, mode: 'append', sync: true });
    this.maybeCommit(nowMs);
  }

  private onRead(nowMs: number, reqId: number, mode: 'lease' | 'readIndex'): void {
    if (this.role !== 'Leader') {
      this.out.push({ kind: 'readResult', reqId, ok: false, ...this.notLeaderError() });
      return;
    }
    // A lease is only safe while followers refuse votes near a live leader (CheckQuorum).
    if (mode === 'lease' && this.config.checkQuorum && this.committedInTerm && this.leaseValid(nowMs)) {
      this.readsAwaitingApply.push({ reqId, index: this.commit });
      this.advanceReads();
      return;
    }
    this.readsAwaitingTermCommit.push({ reqId });
    if (this.committedInTerm) this.startAwaitingReads(nowMs);
  }

  /** Lease: a quorum acknowledged heartbeats sent within leaderLeaseMs (leader's own clock). */
  private leaseValid(nowMs: number): boolean {
    const acks: number[] = [];
    for (const p of this.peerSet) acks.push(p === this.id ? nowMs : (this.progress.get(p)?.ackedSentMs ?? -Infinity));
    acks.sort((a, b) => b - a);
    const t = acks[this.quorum() - 1] ?? -Infinity;
    const leaseMs = this.config.bugs?.leaseTooLong ? LEASE_TOO_LONG_FACTOR * this.config.electionTimeoutMs : this.config.leaderLeaseMs;
    return nowMs - t < leaseMs;
  }

  private startAwaitingReads(nowMs: number): void {
    if (this.readsAwaitingTermCommit.length === 0) return;
    const ctx = ++this.readCtx;
    for (const r of this.readsAwaitingTermCommit) this.readsAwaitingQuorum.push({ reqId: r.reqId, index: this.commit, ctx, acks: new Set([this.id]) });
    this.readsAwaitingTermCommit = [];
    for (const p of [...this.progress.keys()].sort()) this.sendHeartbeat(nowMs, p, this.progress.get(p)!);
    this.advanceReads();
  }

  private advanceReads(): void {
    if (this.role !== 'Leader') return;
    const q = this.quorum();
    const still: PendingRead[] = [];
    for (const r of this.readsAwaitingQuorum) {
      let n = 0;
      for (const p of this.peerSet) if (r.acks.has(p)) n++;
      if (n >= q) this.readsAwaitingApply.push({ reqId: r.reqId, index: r.index });
      else still.push(r);
    }
    this.readsAwaitingQuorum = still;
    const waiting: { reqId: number; index: number }[] = [];
    for (const r of this.readsAwaitingApply) {
      if (this.applied >= r.index) this.out.push({ kind: 'readResult', reqId: r.reqId, ok: true, index: r.index });
      else waiting.push(r);
    }
    this.readsAwaitingApply = waiting;
  }

  private onChangePeers(nowMs: number, op: 'add' | 'remove', addr: string, reqId?: number): void {
    const fail = (error: string, leader?: string): void => {
      if (reqId !== undefined) this.out.push({ kind: 'proposeResult', reqId, ok: false, error, leader });
      else this.warn(`Cannot ${op} peer ${addr}: ${error}`);
    };
    if (this.role !== 'Leader') {
      const e = this.notLeaderError();
      fail(e.error, e.leader);
      return;
    }
    if (op === 'remove' && addr === this.id) {
      this.onLeave(nowMs);
      return;
    }
    if (!this.committedInTerm || this.pendingConfigIndex > this.commit) {
      fail('configuration change in progress', this.id);
      return;
    }
    const has = this.peerSet.includes(addr);
    if ((op === 'add' && has) || (op === 'remove' && !has)) {
      if (reqId !== undefined) this.out.push({ kind: 'proposeResult', reqId, ok: true, index: this.commit });
      return;
    }
    const next = op === 'add' ? [...this.peerSet, addr] : this.peerSet.filter((p) => p !== addr);
    const index = this.log.lastIndex + 1;
    this.appendLocal({ index, term: this.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(normalizePeers(next))) });
    this.pendingConfigIndex = index;
    if (reqId !== undefined) this.pendingProposals.set(index, reqId);
    if (op === 'add') {
      this.info(`Added peer ${addr}, starting replication`);
      this.progress.set(addr, new Progress(this.log.lastIndex));
    } else {
      this.info(`Removed peer ${addr}, stopping replication (Index: ${index})`);
      this.progress.delete(addr);
    }
    this.broadcastAppend(nowMs);
    this.maybeCommit(nowMs);
  }

  private onBootstrap(nowMs: number, peers: string[]): void {
    if (this.log.lastIndex !== 0 || this.currentTerm !== 0) {
      this.warn('Raft data found, ignoring bootstrap');
      return;
    }
    const set = normalizePeers([...peers, this.id]);
    this.peerSet = set;
    this.noPeersWarnedAtMs = null;
    this.configHistory = [{ index: 0, peers: set }];
    this.persistPeers(set);
    if (this.role !== 'Leader') this.resetElectionTimer(nowMs);
  }

  private onTransferLeadership(nowMs: number, to?: string): void {
    if (this.role !== 'Leader') return;
    let target = to;
    if (!target) {
      let best = -1;
      for (const p of this.others()) {
        const m = this.progress.get(p)?.match ?? 0;
        if (m > best) {
          best = m;
          target = p;
        }
      }
    }
    if (!target || target === this.id || !this.progress.has(target)) {
      this.warn(`Cannot transfer leadership${target ? ` to ${target}` : ''}: not a peer`);
      return;
    }
    this.info(`Transferring leadership to ${target}`);
    this.transferTarget = target;
    this.transferDeadlineMs = nowMs + this.config.electionTimeoutMs;
    if (!this.maybeSendTimeoutNow(target)) this.sendAppend(nowMs, target);
  }

  private maybeSendTimeoutNow(peer: string): boolean {
    if (this.transferTarget !== peer) return false;
    const pr = this.progress.get(peer);
    if (!pr || pr.match !== this.log.lastIndex) return false;
    this.send(peer, { t: 'raft.timeoutNow', term: this.currentTerm, leader: this.id });
    return true;
  }

  /**
   * Consul 0.5 graceful leave. A leader with peers proposes a peer set without itself, and once
   * that is committed stops replicating, steps down and clears its peer set (peers.json = null,
   * so a restart stays alone). Anyone else just clears its own peer set; the leader removes it
   * from the others when the agent sees it leave.
   */
  private onLeave(nowMs: number): void {
    if (this.role === 'Leader' && this.others().length > 0) {
      if (this.leaving) return;
      this.leaving = true;
      const index = this.log.lastIndex + 1;
      this.appendLocal({ index, term: this.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(this.others())) });
      this.pendingConfigIndex = index;
      this.leaveIndex = index;
      this.broadcastAppend(nowMs);
      this.maybeCommit(nowMs);
      return;
    }
    this.clearPeersAfterLeave(nowMs);
  }

  private finishLeave(nowMs: number): void {
    for (const p of [...this.progress.keys()].sort()) {
      this.info(`Removed peer ${p}, stopping replication (Index: ${this.leaveIndex})`);
    }
    this.info('Removed ourself, transitioning to follower');
    this.clearPeersAfterLeave(nowMs);
  }

  private clearPeersAfterLeave(nowMs: number): void {
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

  private onSnapshotTaken(index: number, term: number, data: Uint8Array): void {
    this.snapshotPending = false;
    if (index <= (this.snapshot?.index ?? 0) || index > this.applied) return;
    const t = this.log.term(index) ?? term;
    this.writeSnapshot({ index, term: t, peers: this.peerSet, data });
    const newBase = Math.max(this.log.snapshotIndex, index - this.config.trailingLogs);
    if (newBase > this.log.snapshotIndex) {
      const anchor = this.log.entry(newBase);
      this.log.compactTo(newBase, this.log.term(newBase)!);
      this.rewriteLogFile(anchor);
    }
    this.info(`Snapshot to ${index} complete`);
  }
}

function normalizePeers(peers: readonly string[]): string[] {
  return [...new Set(peers)].sort();
}
