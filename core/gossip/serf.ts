// core/gossip/serf.ts — the serf layer over memberlist: one machine per gossip pool (LAN or WAN).
//
// Owns: serf member statuses (alive → leaving → left, alive → failed), Lamport-stamped join and
// leave intents, join/leave/force-leave/tag commands, reconnecting failed members and reaping
// failed and left ones, member events with Consul's log lines, the membership snapshot and
// rejoin on restart, and `consul info` stats.
// Must never: carry out its effects, read a clock or draw randomness other than `nowMs` and the
// injected Rng, or iterate a Map in an order that could differ between runs (Maps here are
// only iterated in insertion order, which is itself deterministic).
import type { Machine } from '../machine.ts';
import type { Rng } from '../rng.ts';
import { resolveGossipConfig, type GossipConfig, type ResolvedGossipConfig } from './config.ts';
import { TransmitLimitedQueue } from './broadcast.ts';
import { armTimer, cancelTimer, logLine, persistFile, type StepCtx } from './context.ts';
import { Memberlist, addrOf, type MemberlistDelegate, type NodeState } from './memberlist.ts';
import { encodedSizeBound, isGossipMessage, type BroadcastMsg, type JoinIntentMsg, type LeaveIntentMsg, type SerfMsg, type SerfPushState, type UserEventMsg } from './messages.ts';
import { UserEventBuffer, checkUserEventSize, readPushEvents } from './user-events.ts';
import { replaySnapshot, snapshotLine, type PreviousNode, type SnapshotReplay } from './snapshot.ts';
import type { GossipEffect, GossipInput, Member, MemberEventType, MemberStatus } from './types.ts';

export type { GossipConfig } from './config.ts';
export type { GossipMessage } from './messages.ts';
export type { GossipEffect, GossipInput, Member, MemberStatus } from './types.ts';

interface MemberState {
  member: Member;
  /** Lamport time of the newest intent seen for this member… */
  statusLTime: number;
  /** …and which kind it was. A join can be newer than the leave that made a member 'left'
   *  (memberlist has not seen it alive again yet); pairing that status with the join's time
   *  would forge a leave intent that outranks the join, so push-pull reports this instead. */
  statusIntent: 'join' | 'leave';
  /** When it failed or left (for reconnect and reaping). */
  leaveTimeMs: number;
}

interface JoinJob {
  kind: 'user' | 'rejoin' | 'reconnect';
  reqId: number;
  remaining: number;
  contacted: number;
  errors: string[];
  prev?: PreviousNode;
}

class LamportClock {
  constructor(public time = 0) {}
  increment(): number {
    return ++this.time;
  }
  witness(v: number): void {
    if (Number.isInteger(v) && v >= this.time) this.time = v + 1;
  }
}

/** Serf's step context: memberlist's effects and serf's own go into one list. */
type C = StepCtx<GossipEffect>;

/** serf MaxQueueDepth: broadcasts kept per queue before the oldest are dropped. */
const MAX_QUEUE_DEPTH = 4096;
const SNAPSHOT_COMPACT_BYTES = 128 * 1024;
const SNAPSHOT_CLOCK_INTERVAL_MS = 500;
const encoder = new TextEncoder();

export class Serf implements Machine<GossipInput, GossipEffect>, MemberlistDelegate<C> {
  readonly cfg: ResolvedGossipConfig;
  readonly ml: Memberlist<C>;
  private readonly rng: Rng;
  private readonly memberMap = new Map<string, MemberState>();
  private failedMembers: string[] = [];
  private leftMembers: string[] = [];
  private readonly recentIntents = new Map<string, { type: 'join' | 'leave'; ltime: number; atMs: number }>();
  private readonly clock = new LamportClock();
  private readonly eventClock = new LamportClock();
  private readonly queryClock = new LamportClock();
  private readonly intents: TransmitLimitedQueue;
  private readonly eventBroadcasts: TransmitLimitedQueue;
  private readonly eventBuffer = new UserEventBuffer();
  private nextEventKey = 0;
  /** Newest event time written to the snapshot (serf's lastEventClock). */
  private snapEventClock: number;
  private state: 'init' | 'alive' | 'leaving' | 'left' = 'init';
  private readonly joins = new Map<number, JoinJob>();
  private nextToken = 1;
  private leaveReqIds: number[] = [];
  private rejoinQueue: PreviousNode[] = [];
  private snapBytes = 0;
  private snapAlive = new Map<string, string>();
  private snapClockWritten = -1;
  private snapClockAtMs = -Infinity;

  private constructor(config: GossipConfig, private readonly replay: SnapshotReplay, rng: Rng) {
    this.cfg = resolveGossipConfig(config);
    this.rng = rng.fork('serf');
    this.intents = new TransmitLimitedQueue(this.cfg.retransmitMult);
    this.eventBroadcasts = new TransmitLimitedQueue(this.cfg.retransmitMult);
    this.snapEventClock = replay.lastEventClock;
    // A restarted node does not deliver again the events it saw before (serf eventMinTime).
    if (replay.lastEventClock > 0) this.eventBuffer.minTime = replay.lastEventClock + 1;
    this.ml = new Memberlist<C>(this.cfg, this.cfg.tags, rng.fork('memberlist'), this);
    this.clock.witness(replay.lastClock);
    this.eventClock.witness(replay.lastEventClock);
    this.queryClock.witness(replay.lastQueryClock);
    // Serf keeps its clocks ≥ 1 so a default LTime of 0 never wins.
    this.clock.increment();
    this.eventClock.increment();
    this.queryClock.increment();
  }

  /** Build a pool from its config and the snapshot file's bytes (null: none on disk). */
  static recover(config: GossipConfig, snapshot: Uint8Array | null, rng: Rng): Serf {
    const text = snapshot ? new TextDecoder('utf-8', { fatal: false }).decode(snapshot) : '';
    return new Serf(config, replaySnapshot(text, config.rejoin ?? false), rng);
  }

  // ------------------------------------------------------------------------------ step

  step(nowMs: number, input: GossipInput): GossipEffect[] {
    const out: GossipEffect[] = [];
    const ctx: C = { nowMs, out };
    switch (input.kind) {
      case 'start':
        this.start(ctx);
        break;
      case 'timer':
        if (!this.ml.onTimer(ctx, input.name)) this.onTimer(ctx, input.name);
        break;
      case 'receive':
        if (this.state === 'alive' || this.state === 'leaving') {
          if (isGossipMessage(input.msg)) this.ml.receive(ctx, input.from, input.via, input.msg);
        }
        break;
      case 'unreachable':
        if (isGossipMessage(input.msg)) this.ml.unreachable(ctx, input.msg, input.reason, input.to);
        break;
      case 'join':
        this.join(ctx, input.reqId, input.addrs);
        break;
      case 'leave':
        this.leave(ctx, input.reqId);
        break;
      case 'setTags':
        this.setTags(ctx, input.tags);
        break;
      case 'forceLeave':
        this.forceLeave(ctx, input.node);
        break;
      case 'userEvent':
        this.userEvent(ctx, input.reqId, input.name, input.payload, input.coalesce);
        break;
    }
    if (this.state === 'alive' || this.state === 'leaving') this.maybeSnapshotClock(ctx);
    return out;
  }

  members(): Member[] {
    const out: Member[] = [];
    for (const m of this.memberMap.values()) out.push({ ...m.member, tags: { ...m.member.tags } });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  localMember(): Member {
    const m = this.memberMap.get(this.cfg.name);
    if (m) return { ...m.member, tags: { ...m.member.tags } };
    return { ...memberFromNode(this.ml.self ?? this.placeholderNode(), 'alive') };
  }

  stats(): Record<string, string> {
    return {
      encrypted: 'false',
      event_queue: String(this.eventBroadcasts.length),
      event_time: String(this.eventClock.time),
      failed: String(this.failedMembers.length),
      health_score: String(this.ml.healthScore),
      intent_queue: String(this.intents.length),
      left: String(this.leftMembers.length),
      member_time: String(this.clock.time),
      members: String(this.memberMap.size),
      query_queue: '0',
      query_time: String(this.queryClock.time),
    };
  }

  /** 'init' | 'alive' | 'leaving' | 'left' (serf's SerfState). */
  get serfState(): string {
    return this.state;
  }

  // ------------------------------------------------------------------------------ commands

  private start(ctx: C): void {
    if (this.state !== 'init') return;
    this.state = 'alive';
    for (const w of this.replay.warnings) this.log(ctx, 'WARN', `Unrecognized snapshot line: ${w}`);
    if (this.replay.ignoredLeave) this.log(ctx, 'INFO', 'Ignoring previous leave in snapshot');
    this.ml.start(ctx);
    armTimer(ctx, 'serf.reap', ctx.nowMs + this.cfg.reapIntervalMs);
    armTimer(ctx, 'serf.reconnect', ctx.nowMs + this.cfg.reconnectIntervalMs);
    this.rejoinQueue = this.replay.previous.filter((p) => p.name !== this.cfg.name);
    if (this.rejoinQueue.length > 0) this.rejoinNext(ctx);
  }

  private join(ctx: C, reqId: number, addrs: string[]): void {
    if (this.state !== 'alive') {
      ctx.out.push({ kind: 'joinResult', reqId, contacted: 0, errors: [`serf: cannot join while ${this.state === 'init' ? 'not started' : this.state}`] });
      return;
    }
    const token = this.nextToken++;
    const job: JoinJob = { kind: 'user', reqId, remaining: 0, contacted: 0, errors: [] };
    this.joins.set(token, job);
    for (const raw of addrs) {
      const addr = normalizeAddr(raw, this.cfg.port);
      if (typeof addr !== 'string') {
        job.errors.push(addr.error);
        continue;
      }
      job.remaining++;
      this.ml.startPushPull(ctx, addr, true, token);
    }
    if (job.remaining === 0) this.finishJob(ctx, token, job);
  }

  private rejoinNext(ctx: C): void {
    const prev = this.rejoinQueue.shift();
    if (!prev) {
      this.log(ctx, 'WARN', 'Failed to re-join any previously known node');
      return;
    }
    const token = this.nextToken++;
    this.joins.set(token, { kind: 'rejoin', reqId: 0, remaining: 1, contacted: 0, errors: [], prev });
    this.ml.startPushPull(ctx, prev.addr, true, token);
  }

  pushPullDone(ctx: C, token: number, _addr: string, error: string | null): void {
    const job = this.joins.get(token);
    if (!job) return;
    job.remaining--;
    if (error) job.errors.push(error);
    else job.contacted++;
    if (job.remaining <= 0) this.finishJob(ctx, token, job);
  }

  private finishJob(ctx: C, token: number, job: JoinJob): void {
    this.joins.delete(token);
    if (job.kind === 'user') {
      if (job.contacted > 0 && this.state === 'alive') this.broadcastJoin(ctx, this.clock.time);
      ctx.out.push({ kind: 'joinResult', reqId: job.reqId, contacted: job.contacted, errors: job.errors });
    } else if (job.kind === 'rejoin') {
      if (job.contacted > 0) {
        this.log(ctx, 'INFO', `Re-joined to previously known node: ${job.prev!.name}: ${job.prev!.addr}`);
        this.rejoinQueue = [];
        if (this.state === 'alive') this.broadcastJoin(ctx, this.clock.time);
      } else if (this.state === 'alive') {
        this.rejoinNext(ctx);
      }
    }
  }

  private leave(ctx: C, reqId: number): void {
    if (this.state === 'left') {
      ctx.out.push({ kind: 'leaveDone', reqId });
      return;
    }
    this.leaveReqIds.push(reqId);
    if (this.state === 'leaving') return;
    if (this.state === 'init') {
      this.finishLeave(ctx);
      return;
    }
    this.state = 'leaving';
    const msg: LeaveIntentMsg = { t: 'gossip.leaveIntent', ltime: this.clock.increment(), node: this.cfg.name };
    // Make the leave's time durable before the intent goes out, so a restart (even a crash that
    // loses unsynced writes) stamps its rejoin later than this leave and the join supersedes it.
    this.snapshotClock(ctx, true);
    if (this.handleLeaveIntent(ctx, msg)) this.queueIntent(msg);
    const anyAlive = this.ml.anyAlive();
    if (anyAlive) this.ml.gossip(ctx);
    armTimer(ctx, 'serf.leave1', ctx.nowMs + (anyAlive ? this.cfg.gossipIntervalMs : 0));
  }

  private finishLeave(ctx: C): void {
    this.state = 'left';
    this.appendSnapshot(ctx, snapshotLine.leave(), true);
    this.ml.stop(ctx);
    for (const name of ['serf.reap', 'serf.reconnect', 'serf.leave1', 'serf.leave2']) cancelTimer(ctx, name);
    for (const reqId of this.leaveReqIds) ctx.out.push({ kind: 'leaveDone', reqId });
    this.leaveReqIds = [];
  }

  private setTags(ctx: C, tags: Record<string, string>): void {
    this.cfg.tags = { ...tags };
    if (this.state === 'init') return;
    this.ml.updateMeta(ctx, tags);
  }

  /** serf RemoveFailedNode: a leave intent on the node's behalf (failed → left). */
  private forceLeave(ctx: C, node: string): void {
    const msg: LeaveIntentMsg = { t: 'gossip.leaveIntent', ltime: this.clock.time, node };
    this.clock.increment();
    this.handleLeaveIntent(ctx, msg);
    if (this.ml.anyAlive()) this.queueIntent(msg);
  }

  // ------------------------------------------------------------------------------ timers

  private onTimer(ctx: C, name: string): void {
    switch (name) {
      case 'serf.reap':
        this.reap(ctx);
        armTimer(ctx, 'serf.reap', ctx.nowMs + this.cfg.reapIntervalMs);
        return;
      case 'serf.reconnect':
        this.reconnect(ctx);
        armTimer(ctx, 'serf.reconnect', ctx.nowMs + this.cfg.reconnectIntervalMs);
        return;
      case 'serf.leave1': {
        if (this.state !== 'leaving') return;
        this.ml.leave(ctx);
        const anyAlive = this.ml.anyAlive();
        if (anyAlive) this.ml.gossip(ctx);
        armTimer(ctx, 'serf.leave2', ctx.nowMs + (anyAlive ? this.cfg.leavePropagateDelayMs : 0));
        return;
      }
      case 'serf.leave2':
        if (this.state === 'leaving') this.finishLeave(ctx);
        return;
    }
  }

  /** Failed members get a join attempt with probability failed/alive, one per interval. */
  private reconnect(ctx: C): void {
    if (this.state !== 'alive') return;
    const numFailed = this.failedMembers.length;
    if (numFailed === 0) return;
    let numAlive = this.memberMap.size - numFailed - this.leftMembers.length;
    if (numAlive <= 0) numAlive = 1;
    if (this.rng.next() > numFailed / numAlive) return;
    const name = this.failedMembers[this.rng.int(numFailed)]!;
    const m = this.memberMap.get(name);
    if (!m) return;
    const addr = `${m.member.addr}:${m.member.port}`;
    this.log(ctx, 'INFO', `attempting reconnect to ${name} ${addr}`);
    const token = this.nextToken++;
    this.joins.set(token, { kind: 'reconnect', reqId: 0, remaining: 1, contacted: 0, errors: [] });
    this.ml.startPushPull(ctx, addr, true, token);
  }

  private reap(ctx: C): void {
    this.failedMembers = this.reapList(ctx, this.failedMembers, this.cfg.reconnectTimeoutMs);
    this.leftMembers = this.reapList(ctx, this.leftMembers, this.cfg.tombstoneTimeoutMs);
    for (const [name, it] of [...this.recentIntents]) {
      if (ctx.nowMs - it.atMs > this.cfg.recentIntentTimeoutMs) this.recentIntents.delete(name);
    }
  }

  private reapList(ctx: C, names: string[], timeoutMs: number): string[] {
    const keep: string[] = [];
    for (const name of names) {
      const m = this.memberMap.get(name);
      if (!m) continue;
      if (ctx.nowMs - m.leaveTimeMs <= timeoutMs) {
        keep.push(name);
        continue;
      }
      this.memberMap.delete(name);
      this.log(ctx, 'INFO', `EventMemberReap: ${name}`);
      this.emitEvent(ctx, 'reap', m.member);
    }
    return keep;
  }

  // ------------------------------------------------------------------------------ memberlist delegate

  notifyJoin(ctx: C, n: NodeState): void {
    let m = this.memberMap.get(n.name);
    if (!m) {
      m = { member: memberFromNode(n, 'alive'), statusLTime: 0, statusIntent: 'join', leaveTimeMs: 0 };
      const intent = this.recentIntents.get(n.name);
      if (intent) {
        m.statusLTime = intent.ltime;
        m.statusIntent = intent.type;
        if (intent.type === 'leave') m.member.status = 'leaving';
        this.recentIntents.delete(n.name);
      }
      this.memberMap.set(n.name, m);
    } else {
      m.member = memberFromNode(n, 'alive');
      m.leaveTimeMs = 0;
    }
    this.failedMembers = without(this.failedMembers, n.name);
    this.leftMembers = without(this.leftMembers, n.name);
    this.log(ctx, 'INFO', `EventMemberJoin: ${n.name} ${n.ip}`);
    this.emitEvent(ctx, 'join', m.member);
    this.snapshotAlive(ctx, n.name, addrOf(n));
  }

  notifyLeave(ctx: C, n: NodeState): void {
    const m = this.memberMap.get(n.name);
    if (!m) return;
    const wasLeaving = m.member.status === 'leaving';
    if (m.member.status !== 'alive' && m.member.status !== 'leaving') return;
    if (wasLeaving || n.state === 'left') {
      m.member.status = 'left';
      m.leaveTimeMs = ctx.nowMs;
      this.leftMembers.push(n.name);
    } else {
      m.member.status = 'failed';
      m.leaveTimeMs = ctx.nowMs;
      this.failedMembers.push(n.name);
    }
    const type: MemberEventType = m.member.status === 'left' ? 'leave' : 'failed';
    this.log(ctx, 'INFO', `${type === 'leave' ? 'EventMemberLeave' : 'EventMemberFailed'}: ${n.name} ${n.ip}`);
    this.emitEvent(ctx, type, m.member);
    this.snapshotNotAlive(ctx, n.name);
  }

  notifyUpdate(ctx: C, n: NodeState): void {
    const m = this.memberMap.get(n.name);
    if (!m) return;
    m.member = { ...memberFromNode(n, m.member.status) };
    this.log(ctx, 'INFO', `EventMemberUpdate: ${n.name}`);
    this.emitEvent(ctx, 'update', m.member);
    this.snapshotAlive(ctx, n.name, addrOf(n));
  }

  notifyMsg(ctx: C, msg: SerfMsg): void {
    if (msg.t === 'gossip.userEvent') {
      if (!Number.isInteger(msg.ltime) || typeof msg.name !== 'string' || !(msg.payload instanceof Uint8Array)) return;
      if (this.handleUserEvent(ctx, msg.ltime, msg.name, msg.payload, msg.cc === true)) this.queueEvent(msg);
      return;
    }
    if (typeof msg.ltime !== 'number' || typeof msg.node !== 'string') return;
    const rebroadcast = msg.t === 'gossip.joinIntent' ? this.handleJoinIntent(ctx, msg) : this.handleLeaveIntent(ctx, msg);
    if (rebroadcast) this.queueIntent(msg);
  }

  /** serf's order: intents first, then user events in the bytes left. */
  getBroadcasts(overheadBytes: number, limitBytes: number): BroadcastMsg[] {
    const n = this.memberMap.size;
    const msgs = this.intents.getBroadcasts(overheadBytes, limitBytes, n);
    if (this.eventBroadcasts.length === 0) return msgs;
    let used = 0;
    for (const m of msgs) used += encodedSizeBound(m) + overheadBytes;
    const events = this.eventBroadcasts.getBroadcasts(overheadBytes, limitBytes - used, n);
    return events.length ? [...msgs, ...events] : msgs;
  }

  /** serf LocalState, except that `left` names the members whose newest intent is a leave
   *  still in force (leaving or left), so every status time travels with its own intent kind:
   *  a left member that has since announced a join is sent as a join, and a pending leave
   *  reaches nodes that missed its broadcast (and the member itself, which then refutes it). */
  localState(_join: boolean): SerfPushState {
    const status: [string, number][] = [];
    const left: string[] = [];
    for (const m of this.memberMap.values()) {
      status.push([m.member.name, m.statusLTime]);
      if (m.statusIntent === 'leave' && (m.member.status === 'leaving' || m.member.status === 'left')) left.push(m.member.name);
    }
    const events = this.eventBuffer.pushState();
    return { ltime: this.clock.time, status, left, eventLTime: this.eventClock.time, queryLTime: this.queryClock.time, ...(events.length ? { events } : {}) };
  }

  mergeRemoteState(ctx: C, s: SerfPushState, join: boolean, token: number): void {
    if (!s || typeof s !== 'object' || !Array.isArray(s.status)) return;
    this.clock.witness(s.ltime);
    this.eventClock.witness(s.eventLTime);
    this.queryClock.witness(s.queryLTime);
    const left = new Set(Array.isArray(s.left) ? s.left : []);
    const ltimes = new Map<string, number>();
    for (const pair of s.status) if (Array.isArray(pair)) ltimes.set(pair[0], pair[1]);
    for (const name of left) {
      const ltime = ltimes.get(name);
      if (ltime !== undefined) this.handleLeaveIntent(ctx, { t: 'gossip.leaveIntent', ltime, node: name });
    }
    for (const [name, ltime] of ltimes) {
      if (!left.has(name)) this.handleJoinIntent(ctx, { t: 'gossip.joinIntent', ltime, node: name });
    }
    // Consul joins with ignoreOld: the events a new member hears of while joining are history.
    const job = this.joins.get(token);
    if (join && job && job.kind !== 'reconnect' && Number.isInteger(s.eventLTime) && s.eventLTime > this.eventBuffer.minTime) {
      this.eventBuffer.minTime = s.eventLTime;
    }
    for (const [ltime, events] of readPushEvents(s.events)) {
      for (const [name, payload] of events) this.handleUserEvent(ctx, ltime, name, payload, false);
    }
  }

  // ------------------------------------------------------------------------------ user events

  /** serf UserEvent: checked, stamped with the event clock, delivered here, then gossiped. */
  private userEvent(ctx: C, reqId: number, name: string, payload: Uint8Array, coalesce: boolean): void {
    const msg: UserEventMsg = { t: 'gossip.userEvent', ltime: this.eventClock.time, name, payload, cc: coalesce };
    let error = this.state === 'alive' ? checkUserEventSize(msg) : `serf: cannot send a user event while ${this.state === 'init' ? 'not started' : this.state}`;
    if (!error && name === '') error = 'user event needs a name';
    if (!error) {
      this.eventClock.increment();
      this.handleUserEvent(ctx, msg.ltime, name, payload, coalesce);
      this.queueEvent(msg);
    }
    ctx.out.push({ kind: 'userEventResult', reqId, error });
  }

  /** serf handleUserEvent: true when the event is new (delivered, and to be rebroadcast). */
  private handleUserEvent(ctx: C, ltime: number, name: string, payload: Uint8Array, coalesce: boolean): boolean {
    this.eventClock.witness(ltime);
    const verdict = this.eventBuffer.admit(ltime, name, payload, this.eventClock.time);
    if (verdict === 'old') this.log(ctx, 'WARN', `received old event ${name} from time ${ltime} (current: ${this.eventClock.time})`);
    if (verdict !== 'new') return false;
    ctx.out.push({ kind: 'userEvent', ltime, name, payload, coalesce });
    if (ltime > this.snapEventClock) {
      this.snapEventClock = ltime;
      this.appendSnapshot(ctx, snapshotLine.eventClock(ltime), false);
    }
    return true;
  }

  private queueEvent(msg: UserEventMsg): void {
    this.eventBroadcasts.queue(`event:${this.nextEventKey++}`, msg);
    this.eventBroadcasts.prune(MAX_QUEUE_DEPTH);
  }

  // ------------------------------------------------------------------------------ intents

  private broadcastJoin(ctx: C, ltime: number): void {
    const msg: JoinIntentMsg = { t: 'gossip.joinIntent', ltime, node: this.cfg.name };
    this.clock.witness(ltime);
    this.handleJoinIntent(ctx, msg);
    this.queueIntent(msg);
  }

  private queueIntent(msg: JoinIntentMsg | LeaveIntentMsg): void {
    this.intents.queue(`intent:${msg.node}`, msg);
  }

  /** Returns true when the intent was new (and should be rebroadcast). */
  private handleJoinIntent(ctx: C, msg: JoinIntentMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.memberMap.get(msg.node);
    if (!m) return this.recordIntent(ctx, msg.node, 'join', msg.ltime);
    if (msg.ltime <= m.statusLTime) return false;
    m.statusLTime = msg.ltime;
    m.statusIntent = 'join';
    if (m.member.status === 'leaving') m.member.status = 'alive';
    return true;
  }

  private handleLeaveIntent(ctx: C, msg: LeaveIntentMsg): boolean {
    this.clock.witness(msg.ltime);
    const m = this.memberMap.get(msg.node);
    if (!m) return this.recordIntent(ctx, msg.node, 'leave', msg.ltime);
    // Someone says we are leaving while we are not: refute with a newer join intent (the
    // witness above put our clock past msg.ltime). A tie is refuted too: Lamport times are not
    // unique across nodes (a force-leave), and only a strictly newer join supersedes a leave.
    if (msg.node === this.cfg.name && this.state === 'alive') {
      if (msg.ltime >= m.statusLTime) this.broadcastJoin(ctx, this.clock.time);
      return false;
    }
    if (msg.ltime <= m.statusLTime) return false;
    switch (m.member.status) {
      case 'alive':
        m.member.status = 'leaving';
        m.statusLTime = msg.ltime;
        m.statusIntent = 'leave';
        return true;
      case 'failed':
        m.member.status = 'left';
        m.statusLTime = msg.ltime;
        m.statusIntent = 'leave';
        this.failedMembers = without(this.failedMembers, msg.node);
        this.leftMembers.push(msg.node);
        this.log(ctx, 'INFO', `EventMemberLeave: ${m.member.name} ${m.member.addr}`);
        this.emitEvent(ctx, 'leave', m.member);
        return true;
      default:
        return false;
    }
  }

  /** serf recentIntents: hold an intent for a node we have not met yet (one per node, newest wins). */
  private recordIntent(ctx: C, node: string, type: 'join' | 'leave', ltime: number): boolean {
    const prev = this.recentIntents.get(node);
    if (prev && prev.ltime >= ltime) return false;
    this.recentIntents.set(node, { type, ltime, atMs: ctx.nowMs });
    return true;
  }

  // ------------------------------------------------------------------------------ snapshot

  private snapshotAlive(ctx: C, name: string, addr: string): void {
    if (this.snapAlive.get(name) === addr) return;
    this.snapAlive.set(name, addr);
    this.appendSnapshot(ctx, snapshotLine.alive(name, addr), true);
  }

  private snapshotNotAlive(ctx: C, name: string): void {
    if (!this.snapAlive.delete(name)) return;
    this.appendSnapshot(ctx, snapshotLine.notAlive(name), true);
  }

  private maybeSnapshotClock(ctx: C): void {
    if (this.clock.time === this.snapClockWritten || ctx.nowMs - this.snapClockAtMs < SNAPSHOT_CLOCK_INTERVAL_MS) return;
    this.snapshotClock(ctx, false);
  }

  private snapshotClock(ctx: C, sync: boolean): void {
    this.snapClockWritten = this.clock.time;
    this.snapClockAtMs = ctx.nowMs;
    this.appendSnapshot(ctx, snapshotLine.clock(this.clock.time), sync);
  }

  private appendSnapshot(ctx: C, text: string, sync: boolean): void {
    if (this.snapBytes + text.length > SNAPSHOT_COMPACT_BYTES) {
      // Compact: rewrite only what a replay needs.
      let full = '';
      for (const [name, addr] of this.snapAlive) full += snapshotLine.alive(name, addr);
      full += snapshotLine.clock(this.clock.time) + snapshotLine.eventClock(this.eventClock.time) + snapshotLine.queryClock(this.queryClock.time);
      full += text;
      this.snapBytes = full.length;
      persistFile(ctx, this.cfg.snapshotPath, encoder.encode(full), 'replace', sync);
      return;
    }
    this.snapBytes += text.length;
    persistFile(ctx, this.cfg.snapshotPath, encoder.encode(text), 'append', sync);
  }

  // ------------------------------------------------------------------------------ helpers

  private emitEvent(ctx: C, type: MemberEventType, member: Member): void {
    ctx.out.push({ kind: 'memberEvent', type, member: { ...member, tags: { ...member.tags } } });
  }

  private log(ctx: C, level: 'INFO' | 'WARN' | 'ERR', text: string): void {
    logLine(ctx, level, 'serf', text);
  }

  private placeholderNode(): NodeState {
    return { name: this.cfg.name, ip: this.cfg.ip, port: this.cfg.port, meta: this.cfg.tags, vsn: [1, 5, 2, 2, 5, 4], incarnation: 0, state: 'alive', stateChangeMs: 0 };
  }
}

function memberFromNode(n: NodeState, status: MemberStatus): Member {
  const v = n.vsn;
  return {
    name: n.name,
    addr: n.ip,
    port: n.port,
    tags: { ...n.meta },
    status,
    protocolMin: v[0] ?? 0,
    protocolMax: v[1] ?? 0,
    protocolCur: v[2] ?? 0,
    delegateMin: v[3] ?? 0,
    delegateMax: v[4] ?? 0,
    delegateCur: v[5] ?? 0,
  };
}

function without(list: string[], name: string): string[] {
  return list.includes(name) ? list.filter((x) => x !== name) : list;
}

/** 'ip' or 'ip:port' → 'ip:port'; anything else → a clear error. */
export function normalizeAddr(raw: string, defaultPort: number): string | { error: string } {
  const s = raw.trim();
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s);
  if (!m) return { error: `address '${raw}' is not an IPv4 address or ip:port (e.g. 10.0.0.1 or 10.0.0.1:8301)` };
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port <= 0 || port > 65535) return { error: `address '${raw}' has port ${port}, outside 1..65535` };
  return `${m[1]}:${port}`;
}
