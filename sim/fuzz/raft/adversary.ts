// sim/fuzz/raft/adversary.ts — fault sequences that steer a cluster into the Raft corners random
// faults almost never reach, choosing their targets as they go.
//
// Owns:
//   Figure8Adversary   the Raft paper's Figure 8: an old-term entry that a new leader replicates
//                      to a majority before any entry of its own term, then is overwritten.
//   SplitVoteAdversary two candidates in one term and a voter that crashes right after its vote
//                      and comes back while both still ask (where an unsynced vote is lost).
// Both act only as the world could: partitions, crashes (dropping the sends of the step the
// process died in, i.e. after its synced writes, before the network write), restarts, and an
// election timer that fires at the same moment as another server's (timing is never part of
// Raft's safety argument). They watch nodes read-only and never look at bug switches, so on a
// correct Raft they run the same moves and every checker must stay silent.
// Must never: change a node's state except through the inputs a real host could deliver.
import { TIMER_ELECTION, type RaftEffect, type RaftInput, type RaftNode } from '../../../core/raft/node.ts';
import { majority, quorumValue } from '../../../core/raft/quorum.ts';
import type { RaftCluster } from '../../raft/cluster.ts';

export interface Adversary {
  /** Start the sequence now (targets are picked from the cluster as it is at this moment). */
  fire(): void;
  /** Stop acting (the run heals everything itself). */
  disarm(): void;
  readonly outcome: string;
}

const isSend = (e: RaftEffect): boolean => e.kind === 'send';

/** A log at least as up to date as another (§5.4.1). */
function atLeastAsUpToDate(a: RaftNode, b: RaftNode): boolean {
  return a.lastTerm > b.lastTerm || (a.lastTerm === b.lastTerm && a.lastIndex >= b.lastIndex);
}


/**
 * Figure 8, for any cluster size N:
 *  1. split   — leader L (term t) and N−⌊N/2⌋−2 followers (N: its peer set) are cut off from
 *               the rest, a quorum; L keeps
 *               taking proposals it cannot commit (the "old-term" entries X).
 *  2. fresh   — the majority side elects F (term t1 > t); F crashes right after its election,
 *               its no-op synced but never sent. Its last term t1 now beats every X holder.
 *  3. rejoin  — the partition heals with F down; only an X holder can win (term tM > t1). Once
 *               that leader knows a majority holds an X entry but not yet one of its own term,
 *               it crashes before its next send, and every live server whose log beats F's is
 *               crashed with it.
 *  4. overwrite — F restarts and is elected by servers that hold X but nothing newer than t1;
 *               it replaces X. A Raft that committed X by counting replicas (not Figure 8's
 *               rule) has now lost a committed entry; a correct one never committed it.
 */
export class Figure8Adversary implements Adversary {
  private phase: 'idle' | 'split' | 'rejoin' | 'overwrite' | 'done' = 'idle';
  private deadlineMs = 0;
  private side: string[] = [];
  private oldTerm = 0;
  private fresh: string | null = null;
  private freshTerm = 0;
  private frontier = 0;
  private down: string[] = [];
  private retries = 0;
  outcome = 'not fired';

  constructor(
    private readonly c: RaftCluster,
    private readonly opts: { phaseMs: number },
  ) {
    c.stepHooks.push((id, node, input, eff, nowMs) => this.onStep(id, node, input, eff, nowMs));
  }

  fire(): void {
    const c = this.c;
    const l = c.leader();
    if (this.phase !== 'idle') return;
    const liveIds = new Set(c.live().map(([id]) => id));
    if (!l || !l[1].peers.every((p) => liveIds.has(p))) {
      // Mid-election or a server down: try again shortly, for at most phaseMs.
      this.retries++;
      if (this.retries * 100 > this.opts.phaseMs) this.finish('no stable leader to start from');
      else c.world.schedule(c.world.nowMs() + 100, 'adversary figure8 retry', () => this.fire());
      return;
    }
    const [lid, lnode] = l;
    // The leader's side must be a minority of its peer set, the other side a quorum.
    const voters = lnode.peers;
    const sideSize = voters.length - majority(voters.length);
    const followers = c.world.rng.shuffle(voters.filter((x) => x !== lid)).slice(0, sideSize - 1);
    this.side = [lid, ...followers].sort();
    this.oldTerm = lnode.term;
    this.partition();
    this.phase = 'split';
    this.deadlineMs = c.world.nowMs() + this.opts.phaseMs;
  }

  private partition(): void {
    const c = this.c;
    const ips = (ids: string[]): string[] => ids.map((x) => c.server(x).ip);
    c.world.net.heal();
    c.world.net.partition([ips(this.side), ips(c.ids.filter((x) => !this.side.includes(x)))]);
  }

  private keepWorld(keepDown: string[]): void {
    const c = this.c;
    const net = c.world.net;
    const ips = c.servers.map((x) => x.ip);
    if (ips.some((a) => ips.some((b) => a !== b && !net.canReach(a, b)))) net.heal();
    for (const x of c.servers) {
      if (keepDown.includes(x.id) || c.world.host(x.ip).processes().length > 0) continue;
      c.world.schedule(c.world.nowMs(), 'adversary revive', () => {
        if (!(this.phase === 'rejoin' ? [this.fresh!] : this.down).includes(x.id)) c.restartNow(x.ip);
      });
    }
  }

  private cutIntact(): boolean {
    const net = this.c.world.net;
    const ip = (id: string): string => this.c.server(id).ip;
    const rest = this.c.ids.filter((x) => !this.side.includes(x));
    if (net.canReach(ip(this.side[0]!), ip(rest[0]!))) return false;
    for (const a of rest) for (const b of rest) if (a !== b && !net.canReach(ip(a), ip(b))) return false;
    return true;
  }

  disarm(): void {
    if (this.phase !== 'done') this.finish(`disarmed in phase ${this.phase}`);
  }

  private finish(outcome: string): void {
    this.phase = 'done';
    this.outcome = outcome;
  }

  private abort(why: string): void {
    const c = this.c;
    if (this.phase === 'split') c.world.net.heal();
    for (const id of this.down) c.world.schedule(c.world.nowMs(), 'adversary restart', () => c.restartNow(c.server(id).ip));
    if (this.fresh && this.phase === 'rejoin') c.world.schedule(c.world.nowMs(), 'adversary restart', () => c.restartNow(c.server(this.fresh!).ip));
    this.finish(`gave up: ${why}`);
  }

  private onStep(id: string, node: RaftNode, input: RaftInput, eff: RaftEffect[], nowMs: number): RaftEffect[] {
    if (this.phase === 'idle' || this.phase === 'done') return eff;
    if (nowMs > this.deadlineMs) {
      this.abort(`phase ${this.phase} timed out`);
      return eff;
    }
    const c = this.c;
    if (this.phase === 'split') {
      // Other faults (a heal, a new partition) may have lifted the cut or split the majority
      // side; while this phase lasts the adversary owns the network.
      if (!this.cutIntact()) this.partition();
      const won = eff.some((e) => e.kind === 'stateChange' && e.state === 'Leader');
      if (!won || this.side.includes(id) || node.term <= this.oldTerm) return eff;
      this.fresh = id;
      this.freshTerm = node.term;
      c.crashNow(c.server(id).ip, null);
      c.world.schedule(nowMs, 'adversary heal', () => c.world.net.heal());
      this.frontier = Math.max(...c.servers.map((s) => s.node?.commitIndex ?? 0));
      this.phase = 'rejoin';
      this.deadlineMs = nowMs + this.opts.phaseMs;
      return eff.filter((e) => !isSend(e));
    }
    // From here on the adversary owns the world: other faults' cuts are lifted and servers they
    // crashed are brought back (except the ones this sequence keeps down).
    this.keepWorld(this.phase === 'rejoin' ? [this.fresh!] : this.down);
    if (this.phase === 'rejoin') {
      if (node.state !== 'Leader' || node.term <= this.freshTerm) return eff;
      if (input.kind !== 'receive' || (input.msg as { t: string }).t !== 'raft.appendResp') return eff;
      const peers = node.peers;
      const known = quorumValue(peers.map((p) => node.matchOf(p) ?? 0)) ?? 0;
      const t = node.termAt(known);
      const freshNode = c.server(this.fresh!).node!;
      if (known <= this.frontier || t === null || t >= node.term || freshNode.termAt(known) === t) return eff;
      // The leader knows a majority holds an old-term entry beyond anything committed before,
      // one that F does not hold.
      this.down = [id];
      c.crashNow(c.server(id).ip, null);
      for (const [oid, o] of c.live()) {
        if (oid === id || oid === this.fresh) continue;
        if (atLeastAsUpToDate(o, freshNode) && !(o.lastTerm === freshNode.lastTerm && o.lastIndex === freshNode.lastIndex)) {
          this.down.push(oid);
          c.crashNow(c.server(oid).ip, null);
        }
      }
      c.world.schedule(nowMs + 1, 'adversary restart fresh', () => c.restartNow(c.server(this.fresh!).ip));
      this.phase = 'overwrite';
      this.deadlineMs = nowMs + this.opts.phaseMs;
      return eff.filter((e) => !isSend(e));
    }
    // overwrite: wait for a newer leader, then bring the others back.
    const won = eff.some((e) => e.kind === 'stateChange' && e.state === 'Leader');
    if (won && node.term > this.freshTerm) {
      for (const oid of this.down) c.world.schedule(nowMs + 1, 'adversary restart', () => c.restartNow(c.server(oid).ip));
      this.finish(`completed: ${id} leads term ${node.term} (fresh ${this.fresh}, old term ${this.oldTerm})`);
    }
    return eff;
  }
}

/**
 * A split vote with a voter that forgets: when a server starts an election round (its timer
 * fired: a pre-vote or a campaign), a second server still at the previous term has its election
 * timer fire at the same moment. The first server other than those two that grants a vote in
 * the contested term crashes right after sending it and restarts downMs later, while both
 * candidates are still re-asking silent peers (every heartbeat interval). It repeats on later
 * election rounds, up to `rounds` rounds.
 */
export class SplitVoteAdversary implements Adversary {
  private phase: 'idle' | 'waitRound' | 'waitVote' | 'done' = 'idle';
  private deadlineMs = 0;
  private a = '';
  private b = '';
  private term = 0;
  private rounds = 0;
  private crashes = 0;
  outcome = 'not fired';

  constructor(
    private readonly c: RaftCluster,
    private readonly opts: { downMs: number; windowMs: number; rounds: number },
  ) {
    c.stepHooks.push((id, node, input, eff, nowMs) => this.onStep(id, node, input, eff, nowMs));
  }

  fire(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'waitRound';
    this.deadlineMs = this.c.world.nowMs() + this.opts.windowMs;
  }

  disarm(): void {
    if (this.phase !== 'done') {
      if (this.crashes === 0) this.outcome = `disarmed in phase ${this.phase}`;
      this.phase = 'done';
    }
  }

  private onStep(id: string, node: RaftNode, input: RaftInput, eff: RaftEffect[], nowMs: number): RaftEffect[] {
    if (this.phase === 'idle' || this.phase === 'done') return eff;
    if (nowMs > this.deadlineMs) {
      if (this.crashes === 0) this.outcome = `gave up in phase ${this.phase}`;
      this.phase = 'done';
      return eff;
    }
    const c = this.c;
    if (this.phase === 'waitRound') {
      if (input.kind !== 'timer' || input.name !== TIMER_ELECTION) return eff;
      const asks = eff.find((e) => e.kind === 'send' && (e.msg as { t: string }).t === 'raft.vote');
      if (!asks) return eff;
      const m = (asks as { msg: { term: number } }).msg;
      // The rival must be able to win votes, so it is the most up-to-date eligible server.
      const others = c.live().filter(([oid, o]) => oid !== id && o.state !== 'Leader' && o.term === m.term - 1);
      if (others.length === 0) return eff;
      const best = others.filter(([, o]) => others.every(([, p]) => atLeastAsUpToDate(o, p)));
      const [bid] = best[c.world.rng.int(best.length)]!;
      this.a = id;
      this.b = bid;
      this.term = m.term;
      c.deliverSoon(bid, { kind: 'timer', name: TIMER_ELECTION }, 'adversary: simultaneous timeout');
      this.phase = 'waitVote';
      this.deadlineMs = nowMs + this.opts.windowMs;
      return eff;
    }
    // waitVote: the first third-party grant in the contested term while the rival can still
    // ask for that vote (a candidate in the term, or about to become one).
    if (id === this.a || id === this.b) {
      if (node.term > this.term) this.nextRound(nowMs, `${id} moved past term ${this.term}`);
      return eff;
    }
    const grant = eff.find((e) => {
      if (e.kind !== 'send' || (e.to !== this.a && e.to !== this.b)) return false;
      const m = e.msg as { t: string; granted?: boolean; pre?: boolean; term?: number };
      return m.t === 'raft.voteResp' && m.granted === true && !m.pre && m.term === this.term;
    });
    if (!grant || grant.kind !== 'send') return eff;
    const rival = c.server(grant.to === this.a ? this.b : this.a).node;
    const rivalAsks =
      rival !== null &&
      ((rival.state === 'Candidate' && rival.term === this.term) || (rival.state === 'Follower' && rival.term === this.term - 1)) &&
      atLeastAsUpToDate(rival, node);
    if (!rivalAsks) return eff;
    c.crashNow(c.server(id).ip, this.opts.downMs);
    this.crashes++;
    this.outcome = `completed ${this.crashes}×: last, ${id} voted in term ${this.term} (candidates ${this.a}, ${this.b}) and crashed`;
    // Whether the rival reaches the restarted voter in time is up to the network; try again
    // on a later election round.
    this.nextRound(nowMs, this.outcome);
    return eff;
  }

  /** The round fizzled (both candidates moved on): wait for the next election round. */
  private nextRound(nowMs: number, why: string): void {
    this.rounds++;
    if (this.rounds >= this.opts.rounds) {
      if (this.crashes > 0) {
        this.outcome = why;
        this.phase = 'done';
      } else this.give(why);
      return;
    }
    this.phase = 'waitRound';
    this.deadlineMs = nowMs + this.opts.windowMs;
  }

  private give(why: string): void {
    this.outcome = `gave up: ${why}`;
    this.phase = 'done';
  }
}
