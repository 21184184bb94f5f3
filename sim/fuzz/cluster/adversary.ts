// sim/fuzz/cluster/adversary.ts — fault sequences that steer a whole simulated cluster into the corners
// random faults almost never reach, choosing their targets as they go (cluster-level cousins of
// sim/fuzz/raft/adversary.ts).
//
// Owns:
//   DeposeAdversary     the leader is cut off from the other servers (clients reach everyone)
//                       while nothing else happens: a deposed leader's lease runs out in peace.
//   Figure8Adversary    the Raft paper's Figure 8: an old-term entry that a new leader knows a
//                       majority holds before any entry of its own term, then is overwritten.
//   SplitVoteAdversary  the leader crashes; two servers' election timers fire at the same
//                       moment; every other server that grants a vote in their term crashes
//                       right after (where an unsynced vote is lost) and comes back.
// They act only as the world could: partitions, kill -9 (the sends of the event the process died
// in never leave: simulated TCP takes at least 1 ms), restarts, and an election timer that fires
// early (a jump of that node's timer clock; Raft's safety never depends on timing). They watch
// the servers read-only after every simulated event and never look at bug switches, so on a
// correct Muster they run the same moves and every checker must stay silent.
// Must never: change an agent's state except through those world actions.
import { TIMER_ELECTION } from '../../../core/raft/types.ts';
import type { RaftNode } from '../../../core/raft/node.ts';
import { majority, quorumValue } from '../../../core/raft/quorum.ts';
import type { FuzzCluster, Slot } from './cluster.ts';

/** What an adversary may do to the world (the fault runner carries it out). */
export interface AdversaryWorld {
  readonly c: FuzzCluster;
  /** Replace the adversary's own partitions (each a list of groups of ips); [] lifts them. */
  setCuts(cuts: string[][][]): void;
  /** kill -9 now; the host stays down until start(). */
  crash(s: Slot): void;
  /** kill -9 now, start again downMs later. */
  crashFor(s: Slot, downMs: number): void;
  start(s: Slot): void;
  /** The node's Raft election timer fires now (its own event). */
  fireElectionTimer(s: Slot): void;
  later(atMs: number, label: string, fn: () => void): void;
  /** Let the Raft checker record what every live server has committed (before a crash). */
  sampleCommits(nowMs: number): void;
  note(text: string): void;
  /** The adversary is done: other faults act again. */
  release(): void;
}

export interface Adversary {
  fire(): void;
  /** After every simulated event while the adversary owns the world. */
  afterEvent(nowMs: number): void;
  /** A server granted a vote (seen in its durable record right after the granting event). */
  onVote(s: Slot, term: number, candidate: string): void;
  /** Faults' pending restarts must leave this host down. */
  keepsDown(s: Slot): boolean;
  /** The run ended the safety phase: stop acting (the run restarts and heals everything). */
  stop(): void;
  readonly outcome: string;
}

/** A log at least as up to date as another (§5.4.1). */
export function atLeastAsUpToDate(a: RaftNode, b: RaftNode): boolean {
  return a.lastTerm > b.lastTerm || (a.lastTerm === b.lastTerm && a.lastIndex >= b.lastIndex);
}

const idOf = (s: Slot): string => `${s.ip}:8300`;

abstract class Base implements Adversary {
  protected done = false;
  outcome = 'not fired';

  constructor(protected readonly w: AdversaryWorld) {}

  abstract fire(): void;
  afterEvent(_nowMs: number): void {}
  onVote(_s: Slot, _term: number, _candidate: string): void {}
  keepsDown(_s: Slot): boolean {
    return false;
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    if (this.outcome === 'not fired' || !this.outcome.startsWith('completed')) this.outcome = `stopped: ${this.outcome}`;
  }

  protected finish(outcome: string): void {
    if (this.done) return;
    this.done = true;
    this.outcome = outcome;
    this.w.note(`adversary ${outcome}`);
    this.w.release();
  }

  protected get c(): FuzzCluster {
    return this.w.c;
  }

  /** Running servers with their Raft nodes. */
  protected live(): [Slot, RaftNode][] {
    const out: [Slot, RaftNode][] = [];
    for (const s of this.c.servers) {
      const r = this.c.raftOf(s);
      if (r) out.push([s, r]);
    }
    return out;
  }
}

export class DeposeAdversary extends Base {
  constructor(
    w: AdversaryWorld,
    private readonly forMs: number,
  ) {
    super(w);
  }

  fire(): void {
    const l = this.c.leader();
    if (!l) return this.finish('gave up: no leader');
    this.outcome = `deposing ${l.name}`;
    this.w.setCuts([[[l.ip], this.c.servers.filter((s) => s !== l).map((s) => s.ip)]]);
    this.w.later(this.c.world.nowMs() + this.forMs, 'adversary depose end', () => this.finish(`completed: ${l.name} cut off for ${this.forMs} ms`));
  }
}

/**
 * Figure 8, for N servers:
 *  1. split     — leader L (term t) and N−⌊N/2⌋−2 followers are cut off from the other servers
 *                 while an entry L just appended is on its way to them (clients still reach
 *                 everyone, so L may append more writes it cannot commit).
 *  2. fresh     — the other side elects F (term t1 > t); F is killed in the event it won, its
 *                 no-op synced but never sent. The cut is lifted with F down.
 *  3. rejoin    — a server holding L's entries wins (term tM > t1). The moment it knows a
 *                 majority holds one of them (beyond anything committed before, and not held by
 *                 F) but nothing of its own term yet, it is killed, with every server whose log
 *                 beats F's; F starts again.
 *  4. overwrite — F is elected by the rest and replaces that entry. A Raft that committed it by
 *                 counting replicas (not Figure 8's rule) has lost a committed entry.
 */
export class Figure8Adversary extends Base {
  private phase: 'idle' | 'arm' | 'split' | 'rejoin' | 'overwrite' = 'idle';
  private deadlineMs = 0;
  private side: Slot[] = [];
  private oldTerm = 0;
  private fresh: Slot | null = null;
  private freshNode: RaftNode | null = null;
  private freshTerm = 0;
  private frontier = 0;
  private mTerm = 0;
  private down: Slot[] = [];
  private startedMs = -1;

  constructor(
    w: AdversaryWorld,
    private readonly phaseMs: number,
  ) {
    super(w);
  }

  fire(): void {
    if (this.done) return;
    const now = this.c.world.nowMs();
    if (this.startedMs < 0) {
      // Let TCP queues stuck behind the lifted cuts drain first.
      this.startedMs = now + SETTLE_MS;
      this.outcome = 'settling';
      return this.w.later(this.startedMs, 'adversary figure8 settle', () => this.fire());
    }
    const l = this.c.leader();
    const live = new Set(this.live().map(([s]) => idOf(s)));
    const lr = l ? this.c.raftOf(l)! : null;
    if (!l || !lr || !lr.peers.every((p) => live.has(p)) || lr.peers.length < 3) {
      // Mid-election or a server down: try again shortly, for at most phaseMs.
      if (now - this.startedMs > this.phaseMs) return this.finish('gave up: no stable leader to start from');
      this.w.later(now + 100, 'adversary figure8 retry', () => this.fire());
      return;
    }
    const voters = this.c.servers.filter((s) => lr.peers.includes(idOf(s)));
    const sideSize = voters.length - majority(voters.length);
    const followers = this.c.world.rng.shuffle(voters.filter((s) => s !== l)).slice(0, sideSize - 1);
    this.side = [l, ...followers];
    this.oldTerm = lr.term;
    this.phase = 'arm';
    this.outcome = `arming: ${l.name} leads term ${this.oldTerm}`;
    this.deadlineMs = now + this.phaseMs;
  }

  /** Cut at a moment the leader holds an entry no server of the other side has received yet
   *  (it is on its way): that entry is the old-term entry Figure 8 is about. */
  private onArm(nowMs: number): void {
    const l = this.side[0]!;
    const lr = this.c.raftOf(l);
    if (!lr || lr.state !== 'Leader' || lr.term !== this.oldTerm) return this.finish(`gave up: ${l.name} stopped leading`);
    const rest = this.c.servers.filter((s) => !this.side.includes(s));
    const restMax = Math.max(...rest.map((s) => this.c.raftOf(s)?.lastIndex ?? 0));
    if (lr.lastIndex <= restMax && nowMs <= this.deadlineMs) return;
    this.cutSide();
    this.phase = 'split';
    this.outcome = `split: ${this.side.map((s) => s.name).join(',')} cut off in term ${this.oldTerm}`;
    this.deadlineMs = nowMs + this.phaseMs;
  }

  private cutSide(): void {
    const rest = this.c.servers.filter((s) => !this.side.includes(s));
    this.w.setCuts([[this.side.map((s) => s.ip), rest.map((s) => s.ip)]]);
  }

  override keepsDown(s: Slot): boolean {
    if (this.done) return false;
    if (this.phase === 'rejoin') return s === this.fresh;
    if (this.phase === 'overwrite') return this.down.includes(s);
    return false;
  }

  private abort(why: string): void {
    for (const s of this.down) this.w.start(s);
    if (this.fresh && this.phase === 'rejoin') this.w.start(this.fresh);
    this.w.setCuts([]);
    this.finish(`gave up in phase ${this.phase}: ${why}`);
  }

  /** Highest commit index any server reached (down ones included: their last state). */
  private maxCommit(): number {
    let m = 0;
    for (const s of this.c.servers) m = Math.max(m, s.handle.agent?.agent.raft?.commitIndex ?? 0);
    return m;
  }

  override afterEvent(nowMs: number): void {
    if (this.done || this.phase === 'idle') return;
    if (this.phase === 'arm') return this.onArm(nowMs);
    if (nowMs > this.deadlineMs) return this.abort('timed out');
    if (this.phase === 'split') return this.onSplit();
    if (this.phase === 'rejoin') return this.onRejoin(nowMs);
    // overwrite: a leader newer than the one killed means F (or a server without the entry) won.
    for (const [s, r] of this.live()) {
      if (r.state !== 'Leader' || r.term <= this.mTerm) continue;
      for (const d of this.down) this.w.later(nowMs + 1, 'adversary figure8 restart', () => this.w.start(d));
      return this.finish(`completed: ${s.name} leads term ${r.term} (fresh ${this.fresh!.name}, old term ${this.oldTerm})`);
    }
  }

  private onSplit(): void {
    for (const [s, r] of this.live()) {
      if (this.side.includes(s) || r.state !== 'Leader' || r.term <= this.oldTerm) continue;
      this.frontier = this.maxCommit();
      const sideMax = Math.max(...this.side.map((x) => this.c.raftOf(x)?.lastIndex ?? 0));
      if (sideMax <= this.frontier) return this.abort(`no uncommitted entry on the cut-off side when ${s.name} won term ${r.term}`);
      this.fresh = s;
      this.freshNode = r;
      this.freshTerm = r.term;
      this.w.crash(s);
      this.w.setCuts([]);
      this.phase = 'rejoin';
      this.outcome = `rejoin: ${s.name} won term ${r.term} and was killed`;
      this.deadlineMs = this.c.world.nowMs() + this.phaseMs;
      return;
    }
  }

  private onRejoin(nowMs: number): void {
    const fresh = this.freshNode!;
    for (const [m, r] of this.live()) {
      if (r.state !== 'Leader' || r.term <= this.freshTerm) continue;
      const peers = r.peers;
      const known = quorumValue(peers.map((p) => r.matchOf(p) ?? 0)) ?? 0;
      const t = r.termAt(known);
      if (known <= this.frontier || t === null || t >= r.term || fresh.termAt(known) === t) continue;
      // m knows a majority holds an old-term entry beyond anything committed before, which F
      // lacks. Kill it and every server whose log beats F's, if F can still win without them.
      const down = [m];
      for (const [o, on] of this.live()) {
        if (o === m || o === this.fresh) continue;
        if (atLeastAsUpToDate(on, fresh) && !(on.lastTerm === fresh.lastTerm && on.lastIndex === fresh.lastIndex)) down.push(o);
      }
      if (peers.length - down.length < majority(peers.length)) continue;
      this.w.sampleCommits(nowMs);
      this.down = down;
      for (const d of down) this.w.crash(d);
      const f = this.fresh!;
      this.w.later(nowMs + 1, 'adversary figure8 restart fresh', () => this.w.start(f));
      this.phase = 'overwrite';
      this.mTerm = r.term;
      this.outcome = `overwrite: ${m.name} (term ${r.term}) knew index ${known} (term ${t}) on a majority and was killed`;
      this.deadlineMs = nowMs + this.phaseMs;
      return;
    }
  }
}

/** A simulated TCP segment blocked by a cut is retried once a second (sim/tcp.ts RETRY_MS);
 *  after the cuts are lifted, connections flow again within this. */
const SETTLE_MS = 1100;

/** Voter crashes allowed in one contested term (each is a chance for an unsynced vote to go). */
const MAX_VOTER_CRASHES = 8;

/**
 * A split vote with voters that forget. The leader is killed at a quiet moment (every follower
 * holds its whole log, so it will vote for either of them) and started again at once. One
 * election timeout after the kill — no server heard a leader since, so none refuses a
 * (pre-)vote — the election timers of the two most up-to-date other servers fire at the same
 * moment: both campaign in the same term. Every other server that grants a vote in that term is
 * killed right after (the grant never leaves) and started again at once, while both candidates
 * keep re-asking; a voter whose vote was not synced may then grant the other one.
 * Restarts are immediate on purpose: a message sent to a down host waits for simulated TCP's
 * 1 s retry, and everything behind it on that connection with it (a candidate's re-asks too).
 */
export class SplitVoteAdversary extends Base {
  private phase: 'idle' | 'quiet' | 'wait' | 'contest' = 'idle';
  private deadlineMs = 0;
  private leader: Slot | null = null;
  private a: Slot | null = null;
  private b: Slot | null = null;
  private term = 0;
  private crashes = 0;

  private settleUntilMs = -1;

  fire(): void {
    const now = this.c.world.nowMs();
    // Let TCP queues stuck behind the lifted cuts drain first (they retry once a second).
    if (this.settleUntilMs < 0) this.settleUntilMs = now + SETTLE_MS;
    this.outcome = 'settling';
    if (now < this.settleUntilMs) return this.w.later(this.settleUntilMs, 'adversary split-vote settle', () => this.fire());
    const l = this.c.leader();
    if (!l || this.live().length < 3) {
      if (now - this.settleUntilMs > 2000) return this.finish(l ? 'gave up: fewer than 3 servers running' : 'gave up: no leader');
      return this.w.later(now + 100, 'adversary split-vote retry', () => this.fire());
    }
    this.leader = l;
    this.phase = 'quiet';
    this.outcome = `waiting for ${l.name}'s followers to catch up`;
    this.deadlineMs = now + 1000;
  }

  override afterEvent(nowMs: number): void {
    if (this.done) return;
    if (this.phase === 'quiet') {
      const l = this.leader!;
      const r = this.c.raftOf(l);
      if (!r || r.state !== 'Leader') return this.finish(`gave up: ${l.name} stopped leading`);
      const caughtUp = r.peers.every((p) => (r.matchOf(p) ?? 0) === r.lastIndex);
      if (!caughtUp && nowMs <= this.deadlineMs) return;
      const et = r.config.electionTimeoutMs;
      this.w.crashFor(l, 0);
      this.w.later(nowMs + et + 1, 'adversary split-vote timeouts', () => this.timeouts());
      this.phase = 'wait';
      this.outcome = `killed ${l.name} (term ${r.term})`;
      return;
    }
    if (this.phase === 'contest') {
      const past = (s: Slot): boolean => (this.c.raftOf(s)?.term ?? Infinity) > this.term;
      if (nowMs > this.deadlineMs || (past(this.a!) && past(this.b!))) this.end();
    }
  }

  private timeouts(): void {
    if (this.done) return;
    const cands = this.live()
      .filter(([s, r]) => s !== this.leader && r.state !== 'Leader')
      .sort(([, x], [, y]) => (atLeastAsUpToDate(x, y) ? (atLeastAsUpToDate(y, x) ? 0 : -1) : 1));
    if (cands.length < 2 || this.live().length < 3) return this.finish('gave up: not enough servers for two candidates and a voter');
    const [[a, ar], [b, br]] = cands as [[Slot, RaftNode], [Slot, RaftNode]];
    this.a = a;
    this.b = b;
    this.term = Math.max(ar.term, br.term) + 1;
    this.w.fireElectionTimer(a);
    this.w.fireElectionTimer(b);
    this.phase = 'contest';
    this.outcome = `${a.name} and ${b.name} time out together (term ${this.term})`;
    this.deadlineMs = this.c.world.nowMs() + 4 * ar.config.electionTimeoutMs;
  }

  override onVote(s: Slot, term: number, _candidate: string): void {
    if (this.done || this.phase !== 'contest' || s === this.a || s === this.b || term !== this.term) return;
    if (this.crashes >= MAX_VOTER_CRASHES) return;
    this.crashes++;
    this.w.crashFor(s, 0);
  }

  private end(): void {
    this.finish(
      this.crashes > 0
        ? `completed: ${this.a!.name}/${this.b!.name} contested term ${this.term}, ${this.crashes} voter crash(es)`
        : `gave up: no third-party vote in term ${this.term}`,
    );
  }
}

/** The timer name the agent gives Raft's election timer (core/agent prefixes a child's timers). */
export const AGENT_ELECTION_TIMER = `raft:${TIMER_ELECTION}`;
