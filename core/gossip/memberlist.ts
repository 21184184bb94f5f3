// core/gossip/memberlist.ts — SWIM with Lifeguard, the way hashicorp/memberlist runs it.
//
// Owns: the node map (alive/suspect/dead/left + incarnations), randomised round-robin probing
// (ping, ping-req through k members with nacks, TCP fallback ping), suspicion and refutation,
// local health awareness, piggybacked and dedicated gossip, and push-pull state exchange.
// Must never: know serf's statuses or Lamport clocks (those arrive through the delegate), read a
// clock or draw randomness except through the step context and the injected Rng, or emit a
// datagram whose encoding could exceed udpBufferSize.
//
// Every entry point takes the step context (time + effect list) as its first parameter, like
// every other machine's step; the delegate's callbacks get the same context back. Timer names
// all start with 'ml.'.
import { armTimer, cancelTimer, logLine, sendMsg, type StepCtx } from './context.ts';
import type { Rng } from '../rng.ts';
import type { ResolvedGossipConfig } from './config.ts';
import { PROTOCOL_VERSIONS } from './config.ts';
import { TransmitLimitedQueue } from './broadcast.ts';
import { expectedConfirmations, pushPullScaleMs, scaleTimeoutMs, suspicionTimeoutMs } from './math.ts';
import {
  COMPOUND_OVERHEAD,
  WIRE_HEADER_BYTES,
  encodedSizeBound,
  type AliveMsg,
  type BroadcastMsg,
  type DeadMsg,
  type GossipMessage,
  type SerfMsg,
  type NodeStateKind,
  type PacketMsg,
  type PushNodeState,
  type PushPullMsg,
  type PushPullReplyMsg,
  type SerfPushState,
  type SuspectMsg,
} from './messages.ts';
import { Suspicion } from './suspicion.ts';

export interface NodeState {
  name: string;
  ip: string;
  port: number;
  meta: Record<string, string>;
  vsn: number[];
  incarnation: number;
  state: NodeStateKind;
  stateChangeMs: number;
}

/** What memberlist needs from the layer above (serf), all synchronous. `C` is the caller's
 *  step context, passed through untouched. */
export interface MemberlistDelegate<C extends StepCtx> {
  notifyJoin(ctx: C, n: NodeState): void;
  notifyLeave(ctx: C, n: NodeState): void;
  notifyUpdate(ctx: C, n: NodeState): void;
  /** A message for the layer above (memberlist's NotifyMsg): intents and user events. */
  notifyMsg(ctx: C, msg: SerfMsg): void;
  /** Serf's broadcasts, sharing the datagram's spare bytes after memberlist's own. */
  getBroadcasts(overheadBytes: number, limitBytes: number): BroadcastMsg[];
  localState(join: boolean): SerfPushState;
  /** `token`: the one given to startPushPull when this is the reply to our own push-pull, else 0. */
  mergeRemoteState(ctx: C, s: SerfPushState, join: boolean, token: number): void;
  /** A push-pull started with `token` finished: error null on success. */
  pushPullDone(ctx: C, token: number, addr: string, error: string | null): void;
}

interface Probe {
  seq: number;
  target: string;
  acked: boolean;
  tcpAcked: boolean;
  expectedNacks: number;
  nacks: number;
}

interface Relay {
  requester: string;
  origSeq: number;
  wantNack: boolean;
  acked: boolean;
  expiresMs: number;
}

interface PendingPushPull {
  addr: string;
  token: number;
}

const PER_PART_OVERHEAD = 0; // parts are array elements: no per-item framing beyond their own bound

export class Memberlist<C extends StepCtx = StepCtx> {
  readonly nodes = new Map<string, NodeState>();
  /** Probe order (memberlist's m.nodes): shuffled, walked round-robin. */
  private nodeList: string[] = [];
  private probeIndex = 0;
  private seq = 0;
  private probe: Probe | null = null;
  private readonly relays = new Map<number, Relay>();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly pushPulls = new Map<number, PendingPushPull>();
  private nextPushPullId = 1;
  readonly broadcasts: TransmitLimitedQueue;
  /** Lifeguard local health score in [0, awarenessMaxMultiplier − 1]. */
  healthScore = 0;
  leaving = false;
  running = false;
  /** Counters for tests and benches. */
  readonly counters = { probes: 0, probeFailures: 0, refutes: 0, suspects: 0, deadDeclared: 0, indirect: 0, tcpFallbacks: 0 };
  /** Suspicions this node raised itself (a failed probe), per target: false suspicions for benches. */
  readonly suspectsRaised = new Map<string, number>();

  constructor(
    readonly cfg: ResolvedGossipConfig,
    private meta: Record<string, string>,
    private readonly rng: Rng,
    private readonly delegate: MemberlistDelegate<C>,
  ) {
    this.broadcasts = new TransmitLimitedQueue(cfg.retransmitMult);
  }

  get self(): NodeState {
    return this.nodes.get(this.cfg.name)!;
  }

  numNodes(): number {
    return this.nodes.size;
  }

  /** memberlist setAlive + schedule: add ourselves (incarnation 1) and arm the loops, staggered. */
  start(ctx: C): void {
    this.running = true;
    this.aliveNode(ctx, this.selfAlive(1), true);
    const c = this.cfg;
    armTimer(ctx, 'ml.probe', ctx.nowMs + this.rng.int(c.probeIntervalMs));
    armTimer(ctx, 'ml.gossip', ctx.nowMs + this.rng.int(c.gossipIntervalMs));
    armTimer(ctx, 'ml.pushPull', ctx.nowMs + this.rng.int(c.pushPullIntervalMs));
  }

  stop(ctx: C): void {
    this.running = false;
    for (const name of ['ml.probe', 'ml.probeTimeout', 'ml.gossip', 'ml.pushPull']) cancelTimer(ctx, name);
    for (const s of this.suspicions.keys()) cancelTimer(ctx, `ml.suspect:${s}`);
    for (const seq of this.relays.keys()) cancelTimer(ctx, `ml.relay:${seq}`);
    for (const id of this.pushPulls.keys()) cancelTimer(ctx, `ml.pp:${id}`);
    this.suspicions.clear();
    this.relays.clear();
    this.pushPulls.clear();
    this.probe = null;
  }

  /** Change our tags: a fresh alive with the next incarnation (memberlist UpdateNode). */
  updateMeta(ctx: C, meta: Record<string, string>): void {
    this.meta = { ...meta };
    const s = this.self;
    const inc = s.incarnation + 1;
    this.aliveNode(ctx, this.selfAlive(inc), true);
    // aliveNode(bootstrap) does not broadcast about ourselves; do it here.
    this.queueBroadcast(this.selfAlive(inc));
  }

  // ------------------------------------------------------------------------------ timers

  onTimer(ctx: C, name: string): boolean {
    if (!name.startsWith('ml.')) return false;
    if (name === 'ml.probe') this.onProbeTick(ctx);
    else if (name === 'ml.probeTimeout') this.onProbeTimeout(ctx);
    else if (name === 'ml.gossip') this.onGossipTick(ctx);
    else if (name === 'ml.pushPull') this.onPushPullTick(ctx);
    else if (name.startsWith('ml.suspect:')) this.onSuspicionTimeout(ctx, name.slice('ml.suspect:'.length));
    else if (name.startsWith('ml.relay:')) this.onRelayTimer(ctx, Number(name.slice('ml.relay:'.length)));
    else if (name.startsWith('ml.pp:')) this.onPushPullTimeout(ctx, Number(name.slice('ml.pp:'.length)));
    return true;
  }

  private log(ctx: C, level: 'DEBUG' | 'INFO' | 'WARN' | 'ERR', text: string): void {
    logLine(ctx, level, 'memberlist', text);
  }

  // ------------------------------------------------------------------------------ probing

  private onProbeTick(ctx: C): void {
    if (!this.running) return;
    if (this.probe) this.finishProbe(ctx, this.probe);
    this.probe = null;
    const intervalMs = this.scaled(this.cfg.probeIntervalMs);
    armTimer(ctx, 'ml.probe', ctx.nowMs + intervalMs);
    if (this.leaving) return;
    const target = this.nextProbeTarget(ctx);
    if (!target) return;
    const seq = ++this.seq;
    this.probe = { seq, target: target.name, acked: false, tcpAcked: false, expectedNacks: 0, nacks: 0 };
    this.counters.probes++;
    const ping: PacketMsg = { t: 'gossip.ping', seq, node: target.name };
    // Lifeguard's buddy system: tell a suspect directly so it can refute at once (plain SWIM
    // leaves that to dissemination).
    const lead: PacketMsg[] = [ping];
    if (this.cfg.lifeguard && target.state === 'suspect') lead.push({ t: 'gossip.suspect', inc: target.incarnation, node: target.name, from: this.cfg.name });
    this.sendPacket(ctx, addrOf(target), lead);
    armTimer(ctx, 'ml.probeTimeout', ctx.nowMs + this.scaled(this.cfg.probeTimeoutMs));
  }

  /** Walk the shuffled list; reshuffle (and reclaim long-dead nodes) at the end. */
  private nextProbeTarget(ctx: C): NodeState | null {
    for (let checked = 0; checked <= this.nodeList.length; checked++) {
      if (this.probeIndex >= this.nodeList.length) {
        this.resetNodes(ctx);
        this.probeIndex = 0;
        if (this.nodeList.length === 0) return null;
      }
      const n = this.nodes.get(this.nodeList[this.probeIndex++]!);
      if (!n || n.name === this.cfg.name || n.state === 'dead' || n.state === 'left') continue;
      return n;
    }
    return null;
  }

  /** memberlist resetNodes: forget nodes dead longer than GossipToTheDeadTime, reshuffle. */
  private resetNodes(ctx: C): void {
    const keep: string[] = [];
    for (const name of this.nodeList) {
      const n = this.nodes.get(name);
      if (!n) continue;
      if ((n.state === 'dead' || n.state === 'left') && ctx.nowMs - n.stateChangeMs > this.cfg.gossipToTheDeadTimeMs) {
        this.nodes.delete(name);
        continue;
      }
      keep.push(name);
    }
    this.nodeList = this.rng.shuffle(keep);
  }

  private onProbeTimeout(ctx: C): void {
    const p = this.probe;
    if (!p || p.acked || !this.running) return;
    const target = this.nodes.get(p.target);
    if (!target) return;
    // Indirect probes through k other alive members.
    const relays = this.kRandomNodes(this.cfg.indirectChecks, (n) => n.name !== p.target && n.state === 'alive');
    const wantNack = this.cfg.lifeguard;
    for (const r of relays) {
      this.counters.indirect++;
      this.sendPacket(ctx, addrOf(r), [{ t: 'gossip.pingReq', seq: p.seq, node: target.name, ip: target.ip, port: target.port, nack: wantNack }]);
    }
    if (wantNack) p.expectedNacks = relays.length;
    // TCP fallback: catches a network that only drops UDP.
    if (!this.cfg.disableTcpPings) {
      this.counters.tcpFallbacks++;
      sendMsg(ctx, this.cfg.port, addrOf(target), 'tcp', { t: 'gossip.ping', seq: p.seq, node: target.name });
    }
  }

  private finishProbe(ctx: C, p: Probe): void {
    if (p.acked) {
      this.applyHealthDelta(ctx, -1);
      return;
    }
    const target = this.nodes.get(p.target);
    this.counters.probeFailures++;
    // Lifeguard: missing nacks mean *we* may be the slow one; with nobody to nack, any failure counts.
    if (this.cfg.lifeguard) {
      if (p.expectedNacks > 0) {
        if (p.nacks < p.expectedNacks) this.applyHealthDelta(ctx, p.expectedNacks - p.nacks);
      } else {
        this.applyHealthDelta(ctx, 1);
      }
    }
    if (!target || target.state === 'dead' || target.state === 'left') return;
    if (p.tcpAcked) {
      this.log(ctx, 'WARN', `Was able to connect to ${p.target} but other probes failed, network may be misconfigured`);
      return;
    }
    this.log(ctx, 'INFO', `Suspect ${p.target} has failed, no acks received`);
    if (target.state === 'alive') this.suspectsRaised.set(p.target, (this.suspectsRaised.get(p.target) ?? 0) + 1);
    this.suspectNode(ctx, { t: 'gossip.suspect', inc: target.incarnation, node: target.name, from: this.cfg.name });
  }

  private applyHealthDelta(ctx: C, delta: number): void {
    if (!this.cfg.lifeguard) return;
    const max = this.cfg.awarenessMaxMultiplier - 1;
    const before = this.healthScore;
    this.healthScore = Math.min(max, Math.max(0, this.healthScore + delta));
    if (this.healthScore !== before && this.healthScore > before) {
      this.log(ctx, 'DEBUG', `Local health score changed to ${this.healthScore}`);
    }
  }

  private scaled(ms: number): number {
    return this.cfg.lifeguard ? scaleTimeoutMs(ms, this.healthScore) : ms;
  }

  private onRelayTimer(ctx: C, seq: number): void {
    const r = this.relays.get(seq);
    if (!r) return;
    if (ctx.nowMs >= r.expiresMs) {
      this.relays.delete(seq);
      return;
    }
    if (!r.acked && r.wantNack && this.running) this.sendPacket(ctx, r.requester, [{ t: 'gossip.nack', seq: r.origSeq }]);
    armTimer(ctx, `ml.relay:${seq}`, r.expiresMs);
  }

  /** Up to k random nodes (not us) passing `filter`, like memberlist's kRandomNodes (3n tries). */
  private kRandomNodes(k: number, filter: (n: NodeState) => boolean): NodeState[] {
    const out: NodeState[] = [];
    const len = this.nodeList.length;
    if (len === 0 || k <= 0) return out;
    const seen = new Set<string>();
    for (let i = 0; i < 3 * len && out.length < k; i++) {
      const name = this.nodeList[this.rng.int(len)]!;
      if (name === this.cfg.name || seen.has(name)) continue;
      const n = this.nodes.get(name);
      if (!n || !filter(n)) continue;
      seen.add(name);
      out.push(n);
    }
    return out;
  }

  // ------------------------------------------------------------------------------ gossip

  private onGossipTick(ctx: C): void {
    if (!this.running) return;
    armTimer(ctx, 'ml.gossip', ctx.nowMs + this.cfg.gossipIntervalMs);
    this.gossip(ctx);
  }

  /** Dedicated gossip to GossipNodes random nodes, incl. recently dead ones (so they can refute). */
  gossip(ctx: C): void {
    const targets = this.kRandomNodes(this.cfg.gossipNodes, (n) => {
      if (n.state === 'alive' || n.state === 'suspect') return true;
      if (n.state === 'dead') return ctx.nowMs - n.stateChangeMs <= this.cfg.gossipToTheDeadTimeMs;
      return false;
    });
    for (const t of targets) {
      const parts = this.collectBroadcasts(ctx, this.cfg.udpBufferSize - WIRE_HEADER_BYTES - COMPOUND_OVERHEAD);
      if (parts.length === 0) return;
      this.emitDatagram(ctx, addrOf(t), parts);
    }
  }

  private collectBroadcasts(ctx: C, limitBytes: number): PacketMsg[] {
    const n = this.nodes.size;
    const mine = this.broadcasts.getBroadcasts(PER_PART_OVERHEAD, limitBytes, n);
    let used = 0;
    for (const m of mine) used += encodedSizeBound(m) + PER_PART_OVERHEAD;
    const theirs = this.delegate.getBroadcasts(PER_PART_OVERHEAD, limitBytes - used);
    return theirs.length ? [...mine, ...theirs] : mine;
  }

  /** Send `lead` (ping/ack/…) with as many piggybacked broadcasts as fit in one datagram. */
  private sendPacket(ctx: C, to: string, lead: PacketMsg[]): void {
    let leadBytes = 0;
    for (const m of lead) leadBytes += encodedSizeBound(m);
    const room = this.cfg.udpBufferSize - WIRE_HEADER_BYTES - COMPOUND_OVERHEAD - leadBytes;
    const extra = room > 32 ? this.collectBroadcasts(ctx, room) : [];
    this.emitDatagram(ctx, to, extra.length ? [...lead, ...extra] : lead);
  }

  private emitDatagram(ctx: C, to: string, parts: PacketMsg[]): void {
    const msg: GossipMessage = parts.length === 1 ? parts[0]! : { t: 'gossip.compound', parts };
    sendMsg(ctx, this.cfg.port, to, 'udp', msg);
  }

  queueBroadcast(msg: AliveMsg | SuspectMsg | DeadMsg): void {
    this.broadcasts.queue(`node:${msg.node}`, msg);
  }

  // ------------------------------------------------------------------------------ receive

  receive(ctx: C, from: string, via: 'udp' | 'tcp', msg: GossipMessage): void {
    if (!this.running) return;
    switch (msg.t) {
      case 'gossip.compound':
        for (const part of Array.isArray(msg.parts) ? msg.parts : []) {
          if (part && typeof part === 'object' && (part as { t?: unknown }).t !== 'gossip.compound') this.receive(ctx, from, via, part as GossipMessage);
        }
        return;
      case 'gossip.ping':
        if (msg.node !== this.cfg.name) {
          this.log(ctx, 'WARN', `Got ping for unexpected node '${msg.node}' from=${from}`);
          return;
        }
        if (via === 'tcp') sendMsg(ctx, this.cfg.port, from, 'tcp', { t: 'gossip.ack', seq: msg.seq });
        else this.sendPacket(ctx, from, [{ t: 'gossip.ack', seq: msg.seq }]);
        return;
      case 'gossip.pingReq':
        this.onPingReq(ctx, from, msg.seq, msg.node, msg.ip, msg.port, msg.nack);
        return;
      case 'gossip.ack':
        this.onAck(ctx, msg.seq, via);
        return;
      case 'gossip.nack':
        if (this.probe && this.probe.seq === msg.seq) this.probe.nacks++;
        return;
      case 'gossip.alive':
        this.aliveNode(ctx, msg, false);
        return;
      case 'gossip.suspect':
        this.suspectNode(ctx, msg);
        return;
      case 'gossip.dead':
        this.deadNode(ctx, msg);
        return;
      case 'gossip.joinIntent':
      case 'gossip.leaveIntent':
      case 'gossip.userEvent':
        this.delegate.notifyMsg(ctx, msg);
        return;
      case 'gossip.pushPull':
        this.onPushPull(ctx, from, msg);
        return;
      case 'gossip.pushPullReply':
        this.onPushPullReply(ctx, from, msg);
        return;
    }
  }

  private onPingReq(ctx: C, from: string, origSeq: number, node: string, ip: string, port: number, wantNack: boolean): void {
    if (this.leaving) return;
    const seq = ++this.seq;
    const expiresMs = ctx.nowMs + this.cfg.probeIntervalMs;
    this.relays.set(seq, { requester: from, origSeq, wantNack, acked: false, expiresMs });
    this.sendPacket(ctx, `${ip}:${port}`, [{ t: 'gossip.ping', seq, node }]);
    armTimer(ctx, `ml.relay:${seq}`, wantNack ? ctx.nowMs + this.cfg.probeTimeoutMs : expiresMs);
  }

  private onAck(ctx: C, seq: number, via: 'udp' | 'tcp'): void {
    const p = this.probe;
    if (p && p.seq === seq) {
      if (via === 'tcp') p.tcpAcked = true;
      else p.acked = true;
      return;
    }
    const r = this.relays.get(seq);
    if (r && !r.acked) {
      r.acked = true;
      this.sendPacket(ctx, r.requester, [{ t: 'gossip.ack', seq: r.origSeq }]);
    }
  }

  // ------------------------------------------------------------------------------ state rules

  private selfAlive(inc: number): AliveMsg {
    return { t: 'gossip.alive', inc, node: this.cfg.name, ip: this.cfg.ip, port: this.cfg.port, meta: { ...this.meta }, vsn: [...PROTOCOL_VERSIONS] };
  }

  /** memberlist aliveNode. `bootstrap` = our own setAlive/UpdateNode (never refuted). */
  aliveNode(ctx: C, a: AliveMsg, bootstrap: boolean): void {
    const isLocal = a.node === this.cfg.name;
    if (isLocal && this.leaving && !bootstrap) return;
    let state = this.nodes.get(a.node);
    let updatesNode = false;
    if (!state) {
      state = { name: a.node, ip: a.ip, port: a.port, meta: {}, vsn: a.vsn, incarnation: 0, state: 'dead', stateChangeMs: ctx.nowMs };
      this.nodes.set(a.node, state);
      // Insert at a random position so new nodes are not probed in join order.
      const at = this.rng.int(this.nodeList.length + 1);
      this.nodeList.push(a.node);
      const last = this.nodeList.length - 1;
      [this.nodeList[at], this.nodeList[last]] = [this.nodeList[last]!, this.nodeList[at]!];
    } else if (state.ip !== a.ip || state.port !== a.port) {
      if (state.state === 'dead' || state.state === 'left') {
        updatesNode = true;
      } else {
        this.log(ctx, 'ERR', `Conflicting address for ${a.node}. Mine: ${state.ip}:${state.port} Theirs: ${a.ip}:${a.port} Old state: ${state.state}`);
        return;
      }
    }
    if (a.inc <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.inc < state.incarnation && isLocal) return;
    this.clearSuspicion(ctx, a.node);
    const oldState = state.state;
    const oldMeta = state.meta;
    if (isLocal && !bootstrap) {
      if (a.inc === state.incarnation && metaEqual(a.meta, state.meta)) return;
      this.log(ctx, 'WARN', `Refuting an alive message for '${a.node}' (${a.ip}:${a.port} meta:(${fmtMeta(a.meta)} VS ${fmtMeta(state.meta)}))`);
      this.refute(ctx, state, a.inc);
      return;
    }
    if (!isLocal) this.queueBroadcast(a);
    state.incarnation = a.inc;
    state.meta = { ...a.meta };
    state.vsn = a.vsn;
    state.ip = a.ip;
    state.port = a.port;
    if (state.state !== 'alive') {
      state.state = 'alive';
      state.stateChangeMs = ctx.nowMs;
    }
    if (oldState === 'dead' || oldState === 'left') this.delegate.notifyJoin(ctx, state);
    else if (!metaEqual(oldMeta, state.meta)) this.delegate.notifyUpdate(ctx, state);
  }

  suspectNode(ctx: C, s: SuspectMsg): void {
    const state = this.nodes.get(s.node);
    if (!state || s.inc < state.incarnation) return;
    const existing = this.suspicions.get(s.node);
    if (existing) {
      if (existing.confirm(s.from)) {
        this.queueBroadcast(s);
        armTimer(ctx, `ml.suspect:${s.node}`, Math.max(ctx.nowMs, existing.deadlineMs));
      }
      return;
    }
    if (state.state !== 'alive') return;
    if (s.node === this.cfg.name) {
      this.log(ctx, 'WARN', `Refuting a suspect message (from: ${s.from})`);
      this.refute(ctx, state, s.inc);
      return;
    }
    this.queueBroadcast(s);
    this.counters.suspects++;
    state.incarnation = s.inc;
    state.state = 'suspect';
    state.stateChangeMs = ctx.nowMs;
    const n = this.nodes.size;
    const k = this.cfg.lifeguard ? expectedConfirmations(this.cfg.suspicionMult, n) : 0;
    const minMs = suspicionTimeoutMs(this.cfg.suspicionMult, n, this.cfg.probeIntervalMs);
    const maxMs = this.cfg.lifeguard ? this.cfg.suspicionMaxTimeoutMult * minMs : minMs;
    const susp = new Suspicion(s.node, s.inc, ctx.nowMs, k, minMs, maxMs, s.from);
    this.suspicions.set(s.node, susp);
    armTimer(ctx, `ml.suspect:${s.node}`, susp.deadlineMs);
  }

  private onSuspicionTimeout(ctx: C, name: string): void {
    const susp = this.suspicions.get(name);
    const state = this.nodes.get(name);
    if (!susp || !state) return;
    if (ctx.nowMs < susp.deadlineMs) {
      armTimer(ctx, `ml.suspect:${name}`, susp.deadlineMs);
      return;
    }
    this.suspicions.delete(name);
    if (state.state !== 'suspect' || state.incarnation !== susp.incarnation) return;
    this.log(ctx, 'INFO', `Marking ${name} as failed, suspect timeout reached (${susp.confirmations} peer confirmations)`);
    this.deadNode(ctx, { t: 'gossip.dead', inc: state.incarnation, node: name, from: this.cfg.name });
  }

  deadNode(ctx: C, d: DeadMsg): void {
    const state = this.nodes.get(d.node);
    if (!state || d.inc < state.incarnation) return;
    this.clearSuspicion(ctx, d.node);
    if (state.state === 'dead' || state.state === 'left') return;
    if (d.node === this.cfg.name && !this.leaving) {
      this.log(ctx, 'WARN', `Refuting a dead message (from: ${d.from})`);
      this.refute(ctx, state, d.inc);
      return;
    }
    this.queueBroadcast(d);
    if (d.from !== d.node) this.counters.deadDeclared++;
    state.incarnation = d.inc;
    state.state = d.node === d.from ? 'left' : 'dead';
    state.stateChangeMs = ctx.nowMs;
    this.delegate.notifyLeave(ctx, state);
  }

  private clearSuspicion(ctx: C, name: string): void {
    if (this.suspicions.delete(name)) cancelTimer(ctx, `ml.suspect:${name}`);
  }

  /** Out-bid an accusation: next incarnation above it, broadcast alive, and count it against our health. */
  private refute(ctx: C, self: NodeState, accusedInc: number): void {
    let inc = self.incarnation + 1;
    if (accusedInc >= inc) inc = accusedInc + 1;
    self.incarnation = inc;
    this.counters.refutes++;
    this.applyHealthDelta(ctx, 1);
    this.queueBroadcast(this.selfAlive(inc));
  }

  /** Graceful leave: broadcast dead-from-self; peers mark us 'left'. */
  leave(ctx: C): void {
    this.leaving = true;
    const s = this.self;
    this.deadNode(ctx, { t: 'gossip.dead', inc: s.incarnation, node: s.name, from: s.name });
  }

  anyAlive(): boolean {
    for (const n of this.nodes.values()) if (n.name !== this.cfg.name && (n.state === 'alive' || n.state === 'suspect')) return true;
    return false;
  }

  // ------------------------------------------------------------------------------ push-pull

  private onPushPullTick(ctx: C): void {
    if (!this.running) return;
    armTimer(ctx, 'ml.pushPull', ctx.nowMs + pushPullScaleMs(this.cfg.pushPullIntervalMs, this.nodes.size));
    if (this.leaving) return;
    const [peer] = this.kRandomNodes(1, (n) => n.state === 'alive');
    if (!peer) return;
    this.startPushPull(ctx, addrOf(peer), false, 0);
  }

  /** Full state exchange over a stream. `token` is handed back in pushPullDone. */
  startPushPull(ctx: C, addr: string, join: boolean, token: number): void {
    const id = this.nextPushPullId++;
    this.pushPulls.set(id, { addr, token });
    if (join) this.log(ctx, 'DEBUG', `Initiating push/pull sync with: ${addr}`);
    const msg: PushPullMsg = { t: 'gossip.pushPull', id, join, nodes: this.localNodeStates(), serf: this.delegate.localState(join) };
    sendMsg(ctx, this.cfg.port, addr, 'tcp', msg);
    armTimer(ctx, `ml.pp:${id}`, ctx.nowMs + this.cfg.tcpTimeoutMs);
  }

  private localNodeStates(): PushNodeState[] {
    const out: PushNodeState[] = [];
    for (const name of this.nodeList) {
      const n = this.nodes.get(name);
      if (!n) continue;
      out.push({ node: n.name, ip: n.ip, port: n.port, meta: n.meta, vsn: n.vsn, inc: n.incarnation, state: n.state });
    }
    return out;
  }

  private onPushPull(ctx: C, from: string, msg: PushPullMsg): void {
    if (this.leaving) return;
    const reply: PushPullReplyMsg = { t: 'gossip.pushPullReply', id: msg.id, join: msg.join, nodes: this.localNodeStates(), serf: this.delegate.localState(msg.join) };
    sendMsg(ctx, this.cfg.port, from, 'tcp', reply);
    this.mergeState(ctx, msg.nodes);
    this.delegate.mergeRemoteState(ctx, msg.serf, msg.join, 0);
  }

  private onPushPullReply(ctx: C, from: string, msg: PushPullReplyMsg): void {
    const pending = this.pushPulls.get(msg.id);
    if (!pending) return;
    this.pushPulls.delete(msg.id);
    cancelTimer(ctx, `ml.pp:${msg.id}`);
    this.mergeState(ctx, msg.nodes);
    this.delegate.mergeRemoteState(ctx, msg.serf, msg.join, pending.token);
    this.delegate.pushPullDone(ctx, pending.token, pending.addr, null);
    void from;
  }

  /** A stream send failed: the push-pull it carried is over. */
  unreachable(ctx: C, msg: GossipMessage, reason: 'refused' | 'reset' | 'timeout', to: string): void {
    if (msg.t === 'gossip.pushPullReply') {
      // Our reply went out on a stale connection to a peer that restarted; it is waiting on a
      // fresh one, so resend once (memberlist answers on the caller's own connection instead).
      if (reason === 'reset' && !msg.resent && this.running) {
        sendMsg(ctx, this.cfg.port, to, 'tcp', { ...msg, resent: true });
      }
      return;
    }
    if (msg.t !== 'gossip.pushPull') return;
    const pending = this.pushPulls.get(msg.id);
    if (!pending) return;
    this.pushPulls.delete(msg.id);
    cancelTimer(ctx, `ml.pp:${msg.id}`);
    this.failPushPull(ctx, pending, dialError(pending.addr, reason));
  }

  private onPushPullTimeout(ctx: C, id: number): void {
    const pending = this.pushPulls.get(id);
    if (!pending) return;
    this.pushPulls.delete(id);
    this.failPushPull(ctx, pending, dialError(pending.addr, 'timeout'));
  }

  private failPushPull(ctx: C, p: PendingPushPull, error: string): void {
    if (p.token === 0) this.log(ctx, 'ERR', `Push/Pull with ${p.addr} failed: ${error}`);
    this.delegate.pushPullDone(ctx, p.token, p.addr, error);
  }

  /** memberlist mergeState: a remote 'dead' only makes us suspect (we may know better). */
  private mergeState(ctx: C, remote: PushNodeState[]): void {
    if (!Array.isArray(remote)) return;
    for (const r of remote) {
      if (!r || typeof r.node !== 'string') continue;
      switch (r.state) {
        case 'alive':
          this.aliveNode(ctx, { t: 'gossip.alive', inc: r.inc, node: r.node, ip: r.ip, port: r.port, meta: r.meta ?? {}, vsn: r.vsn ?? [] }, false);
          break;
        case 'left':
          this.deadNode(ctx, { t: 'gossip.dead', inc: r.inc, node: r.node, from: r.node });
          break;
        case 'dead':
        case 'suspect':
          this.suspectNode(ctx, { t: 'gossip.suspect', inc: r.inc, node: r.node, from: this.cfg.name });
          break;
      }
    }
  }
}

export function addrOf(n: { ip: string; port: number }): string {
  return `${n.ip}:${n.port}`;
}

export function dialError(addr: string, reason: 'refused' | 'reset' | 'timeout'): string {
  if (reason === 'refused') return `dial tcp ${addr}: connect: connection refused`;
  if (reason === 'reset') return `read tcp ${addr}: connection reset by peer`;
  return `dial tcp ${addr}: i/o timeout`;
}

function metaEqual(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function fmtMeta(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(',');
}
