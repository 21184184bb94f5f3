// core/gossip/memberlist.ts — SWIM with Lifeguard, the way hashicorp/memberlist runs it.
//
// Owns: the node map (alive/suspect/dead/left + incarnations), randomised round-robin probing
// (ping, ping-req through k members with nacks, TCP fallback ping), suspicion and refutation,
// local health awareness, piggybacked and dedicated gossip, and push-pull state exchange.
// Must never: know serf's statuses or Lamport clocks (those arrive through the delegate), read a
// clock or draw randomness except through `now` and the injected Rng, or emit a datagram whose
// encoding could exceed udpBufferSize.
//
// The Serf machine owns the step loop: it sets `now` and `out` before calling in, then returns
// `out`. Timer names all start with 'ml.'.
import type { BaseEffect } from '../machine.ts';
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
  type JoinIntentMsg,
  type LeaveIntentMsg,
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

/** What memberlist needs from the layer above (serf), all synchronous. */
export interface MemberlistDelegate {
  notifyJoin(n: NodeState): void;
  notifyLeave(n: NodeState): void;
  notifyUpdate(n: NodeState): void;
  notifyIntent(msg: JoinIntentMsg | LeaveIntentMsg): void;
  /** Serf's broadcasts, sharing the datagram's spare bytes after memberlist's own. */
  getBroadcasts(overheadBytes: number, limitBytes: number): BroadcastMsg[];
  localState(join: boolean): SerfPushState;
  mergeRemoteState(s: SerfPushState, join: boolean): void;
  /** A push-pull started with `token` finished: error null on success. */
  pushPullDone(token: number, addr: string, error: string | null): void;
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

export type GossipBaseEffect = BaseEffect<GossipMessage>;

const PER_PART_OVERHEAD = 0; // parts are array elements: no per-item framing beyond their own bound

export class Memberlist {
  now = 0;
  out: GossipBaseEffect[] = [];
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
    private readonly delegate: MemberlistDelegate,
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
  start(): void {
    this.running = true;
    this.aliveNode(this.selfAlive(1), true);
    const c = this.cfg;
    this.armTimer('ml.probe', this.now + this.rng.int(c.probeIntervalMs));
    this.armTimer('ml.gossip', this.now + this.rng.int(c.gossipIntervalMs));
    this.armTimer('ml.pushPull', this.now + this.rng.int(c.pushPullIntervalMs));
  }

  stop(): void {
    this.running = false;
    for (const name of ['ml.probe', 'ml.probeTimeout', 'ml.gossip', 'ml.pushPull']) this.out.push({ kind: 'cancelTimer', name });
    for (const s of this.suspicions.keys()) this.out.push({ kind: 'cancelTimer', name: `ml.suspect:${s}` });
    for (const seq of this.relays.keys()) this.out.push({ kind: 'cancelTimer', name: `ml.relay:${seq}` });
    for (const id of this.pushPulls.keys()) this.out.push({ kind: 'cancelTimer', name: `ml.pp:${id}` });
    this.suspicions.clear();
    this.relays.clear();
    this.pushPulls.clear();
    this.probe = null;
  }

  /** Change our tags: a fresh alive with the next incarnation (memberlist UpdateNode). */
  updateMeta(meta: Record<string, string>): void {
    this.meta = { ...meta };
    const s = this.self;
    const inc = s.incarnation + 1;
    this.aliveNode(this.selfAlive(inc), true);
    // aliveNode(bootstrap) does not broadcast about ourselves; do it here.
    this.queueBroadcast(this.selfAlive(inc));
  }

  // ------------------------------------------------------------------------------ timers

  onTimer(name: string): boolean {
    if (!name.startsWith('ml.')) return false;
    if (name === 'ml.probe') this.onProbeTick();
    else if (name === 'ml.probeTimeout') this.onProbeTimeout();
    else if (name === 'ml.gossip') this.onGossipTick();
    else if (name === 'ml.pushPull') this.onPushPullTick();
    else if (name.startsWith('ml.suspect:')) this.onSuspicionTimeout(name.slice('ml.suspect:'.length));
    else if (name.startsWith('ml.relay:')) this.onRelayTimer(Number(name.slice('ml.relay:'.length)));
    else if (name.startsWith('ml.pp:')) this.onPushPullTimeout(Number(name.slice('ml.pp:'.length)));
    return true;
  }

  private armTimer(name: string, atMs: number): void {
    this.out.push({ kind: 'timer', name, atMs });
  }

  private log(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERR', text: string): void {
    this.out.push({ kind: 'log', level, source: 'memberlist', text });
  }

  // ------------------------------------------------------------------------------ probing

  private onProbeTick(): void {
    if (!this.running) return;
    if (this.probe) this.finishProbe(this.probe);
    this.probe = null;
    const intervalMs = this.scaled(this.cfg.probeIntervalMs);
    this.armTimer('ml.probe', this.now + intervalMs);
    if (this.leaving) return;
    const target = this.nextProbeTarget();
    if (!target) return;
    const seq = ++this.seq;
    this.probe = { seq, target: target.name, acked: false, tcpAcked: false, expectedNacks: 0, nacks: 0 };
    this.counters.probes++;
    const ping: PacketMsg = { t: 'gossip.ping', seq, node: target.name };
    // Lifeguard's buddy system: tell a suspect directly so it can refute at once (plain SWIM
    // leaves that to dissemination).
    const lead: PacketMsg[] = [ping];
    if (this.cfg.lifeguard && target.state === 'suspect') lead.push({ t: 'gossip.suspect', inc: target.incarnation, node: target.name, from: this.cfg.name });
    this.sendPacket(addrOf(target), lead);
    this.armTimer('ml.probeTimeout', this.now + this.scaled(this.cfg.probeTimeoutMs));
  }

  /** Walk the shuffled list; reshuffle (and reclaim long-dead nodes) at the end. */
  private nextProbeTarget(): NodeState | null {
    for (let checked = 0; checked <= this.nodeList.length; checked++) {
      if (this.probeIndex >= this.nodeList.length) {
        this.resetNodes();
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
  private resetNodes(): void {
    const keep: string[] = [];
    for (const name of this.nodeList) {
      const n = this.nodes.get(name);
      if (!n) continue;
      if ((n.state === 'dead' || n.state === 'left') && this.now - n.stateChangeMs > this.cfg.gossipToTheDeadTimeMs) {
        this.nodes.delete(name);
        continue;
      }
      keep.push(name);
    }
    this.nodeList = this.rng.shuffle(keep);
  }

  private onProbeTimeout(): void {
    const p = this.probe;
    if (!p || p.acked || !this.running) return;
    const target = this.nodes.get(p.target);
    if (!target) return;
    // Indirect probes through k other alive members.
    const relays = this.kRandomNodes(this.cfg.indirectChecks, (n) => n.name !== p.target && n.state === 'alive');
    const wantNack = this.cfg.lifeguard;
    for (const r of relays) {
      this.counters.indirect++;
      this.sendPacket(addrOf(r), [{ t: 'gossip.pingReq', seq: p.seq, node: target.name, ip: target.ip, port: target.port, nack: wantNack }]);
    }
    if (wantNack) p.expectedNacks = relays.length;
    // TCP fallback: catches a network that only drops UDP.
    if (!this.cfg.disableTcpPings) {
      this.counters.tcpFallbacks++;
      this.out.push({ kind: 'send', fromPort: this.cfg.port, to: addrOf(target), via: 'tcp', msg: { t: 'gossip.ping', seq: p.seq, node: target.name } });
    }
  }

  private finishProbe(p: Probe): void {
    if (p.acked) {
      this.applyHealthDelta(-1);
      return;
    }
    const target = this.nodes.get(p.target);
    this.counters.probeFailures++;
    // Lifeguard: missing nacks mean *we* may be the slow one; with nobody to nack, any failure counts.
    if (this.cfg.lifeguard) {
      if (p.expectedNacks > 0) {
        if (p.nacks < p.expectedNacks) this.applyHealthDelta(p.expectedNacks - p.nacks);
      } else {
        this.applyHealthDelta(1);
      }
    }
    if (!target || target.state === 'dead' || target.state === 'left') return;
    if (p.tcpAcked) {
      this.log('WARN', `Was able to connect to ${p.target} but other probes failed, network may be misconfigured`);
      return;
    }
    this.log('INFO', `Suspect ${p.target} has failed, no acks received`);
    if (target.state === 'alive') this.suspectsRaised.set(p.target, (this.suspectsRaised.get(p.target) ?? 0) + 1);
    this.suspectNode({ t: 'gossip.suspect', inc: target.incarnation, node: target.name, from: this.cfg.name });
  }

  private applyHealthDelta(delta: number): void {
    if (!this.cfg.lifeguard) return;
    const max = this.cfg.awarenessMaxMultiplier - 1;
    const before = this.healthScore;
    this.healthScore = Math.min(max, Math.max(0, this.healthScore + delta));
    if (this.healthScore !== before && this.healthScore > before) {
      this.log('DEBUG', `Local health score changed to ${this.healthScore}`);
    }
  }

  private scaled(ms: number): number {
    return this.cfg.lifeguard ? scaleTimeoutMs(ms, this.healthScore) : ms;
  }

  private onRelayTimer(seq: number): void {
    const r = this.relays.get(seq);
    if (!r) return;
    if (this.now >= r.expiresMs) {
      this.relays.delete(seq);
      return;
    }
    if (!r.acked && r.wantNack && this.running) this.sendPacket(r.requester, [{ t: 'gossip.nack', seq: r.origSeq }]);
    this.armTimer(`ml.relay:${seq}`, r.expiresMs);
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

  private onGossipTick(): void {
    if (!this.running) return;
    this.armTimer('ml.gossip', this.now + this.cfg.gossipIntervalMs);
    this.gossip();
  }

  /** Dedicated gossip to GossipNodes random nodes, incl. recently dead ones (so they can refute). */
  gossip(): void {
    const targets = this.kRandomNodes(this.cfg.gossipNodes, (n) => {
      if (n.state === 'alive' || n.state === 'suspect') return true;
      if (n.state === 'dead') return this.now - n.stateChangeMs <= this.cfg.gossipToTheDeadTimeMs;
      return false;
    });
    for (const t of targets) {
      const parts = this.collectBroadcasts(this.cfg.udpBufferSize - WIRE_HEADER_BYTES - COMPOUND_OVERHEAD);
      if (parts.length === 0) return;
      this.emitDatagram(addrOf(t), parts);
    }
  }

  private collectBroadcasts(limitBytes: number): PacketMsg[] {
    const n = this.nodes.size;
    const mine = this.broadcasts.getBroadcasts(PER_PART_OVERHEAD, limitBytes, n);
    let used = 0;
    for (const m of mine) used += encodedSizeBound(m) + PER_PART_OVERHEAD;
    const theirs = this.delegate.getBroadcasts(PER_PART_OVERHEAD, limitBytes - used);
    return theirs.length ? [...mine, ...theirs] : mine;
  }

  /** Send `lead` (ping/ack/…) with as many piggybacked broadcasts as fit in one datagram. */
  private sendPacket(to: string, lead: PacketMsg[]): void {
    let leadBytes = 0;
    for (const m of lead) leadBytes += encodedSizeBound(m);
    const room = this.cfg.udpBufferSize - WIRE_HEADER_BYTES - COMPOUND_OVERHEAD - leadBytes;
    const extra = room > 32 ? this.collectBroadcasts(room) : [];
    this.emitDatagram(to, extra.length ? [...lead, ...extra] : lead);
  }

  private emitDatagram(to: string, parts: PacketMsg[]): void {
    const msg: GossipMessage = parts.length === 1 ? parts[0]! : { t: 'gossip.compound', parts };
    this.out.push({ kind: 'send', fromPort: this.cfg.port, to, via: 'udp', msg });
  }

  queueBroadcast(msg: AliveMsg | SuspectMsg | DeadMsg): void {
    this.broadcasts.queue(`node:${msg.node}`, msg);
  }

  // ------------------------------------------------------------------------------ receive

  receive(from: string, via: 'udp' | 'tcp', msg: GossipMessage): void {
    if (!this.running) return;
    switch (msg.t) {
      case 'gossip.compound':
        for (const part of Array.isArray(msg.parts) ? msg.parts : []) {
          if (part && typeof part === 'object' && (part as { t?: unknown }).t !== 'gossip.compound') this.receive(from, via, part as GossipMessage);
        }
        return;
      case 'gossip.ping':
        if (msg.node !== this.cfg.name) {
          this.log('WARN', `Got ping for unexpected node '${msg.node}' from=${from}`);
          return;
        }
        if (via === 'tcp') this.out.push({ kind: 'send', fromPort: this.cfg.port, to: from, via: 'tcp', msg: { t: 'gossip.ack', seq: msg.seq } });
        else this.sendPacket(from, [{ t: 'gossip.ack', seq: msg.seq }]);
        return;
      case 'gossip.pingReq':
        this.onPingReq(from, msg.seq, msg.node, msg.ip, msg.port, msg.nack);
        return;
      case 'gossip.ack':
        this.onAck(msg.seq, via);
        return;
      case 'gossip.nack':
        if (this.probe && this.probe.seq === msg.seq) this.probe.nacks++;
        return;
      case 'gossip.alive':
        this.aliveNode(msg, false);
        return;
      case 'gossip.suspect':
        this.suspectNode(msg);
        return;
      case 'gossip.dead':
        this.deadNode(msg);
        return;
      case 'gossip.joinIntent':
      case 'gossip.leaveIntent':
        this.delegate.notifyIntent(msg);
        return;
      case 'gossip.pushPull':
        this.onPushPull(from, msg);
        return;
      case 'gossip.pushPullReply':
        this.onPushPullReply(from, msg);
        return;
    }
  }

  private onPingReq(from: string, origSeq: number, node: string, ip: string, port: number, wantNack: boolean): void {
    if (this.leaving) return;
    const seq = ++this.seq;
    const expiresMs = this.now + this.cfg.probeIntervalMs;
    this.relays.set(seq, { requester: from, origSeq, wantNack, acked: false, expiresMs });
    this.sendPacket(`${ip}:${port}`, [{ t: 'gossip.ping', seq, node }]);
    this.armTimer(`ml.relay:${seq}`, wantNack ? this.now + this.cfg.probeTimeoutMs : expiresMs);
  }

  private onAck(seq: number, via: 'udp' | 'tcp'): void {
    const p = this.probe;
    if (p && p.seq === seq) {
      if (via === 'tcp') p.tcpAcked = true;
      else p.acked = true;
      return;
    }
    const r = this.relays.get(seq);
    if (r && !r.acked) {
      r.acked = true;
      this.sendPacket(r.requester, [{ t: 'gossip.ack', seq: r.origSeq }]);
    }
  }

  // ------------------------------------------------------------------------------ state rules

  private selfAlive(inc: number): AliveMsg {
    return { t: 'gossip.alive', inc, node: this.cfg.name, ip: this.cfg.ip, port: this.cfg.port, meta: { ...this.meta }, vsn: [...PROTOCOL_VERSIONS] };
  }

  /** memberlist aliveNode. `bootstrap` = our own setAlive/UpdateNode (never refuted). */
  aliveNode(a: AliveMsg, bootstrap: boolean): void {
    const isLocal = a.node === this.cfg.name;
    if (isLocal && this.leaving && !bootstrap) return;
    let state = this.nodes.get(a.node);
    let updatesNode = false;
    if (!state) {
      state = { name: a.node, ip: a.ip, port: a.port, meta: {}, vsn: a.vsn, incarnation: 0, state: 'dead', stateChangeMs: this.now };
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
        this.log('ERR', `Conflicting address for ${a.node}. Mine: ${state.ip}:${state.port} Theirs: ${a.ip}:${a.port} Old state: ${state.state}`);
        return;
      }
    }
    if (a.inc <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.inc < state.incarnation && isLocal) return;
    this.clearSuspicion(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;
    if (isLocal && !bootstrap) {
      if (a.inc === state.incarnation && metaEqual(a.meta, state.meta)) return;
      this.log('WARN', `Refuting an alive message for '${a.node}' (${a.ip}:${a.port} meta:(${fmtMeta(a.meta)} VS ${fmtMeta(state.meta)}))`);
      this.refute(state, a.inc);
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
      state.stateChangeMs = this.now;
    }
    if (oldState === 'dead' || oldState === 'left') this.delegate.notifyJoin(state);
    else if (!metaEqual(oldMeta, state.meta)) this.delegate.notifyUpdate(state);
  }

  suspectNode(s: SuspectMsg): void {
    const state = this.nodes.get(s.node);
    if (!state || s.inc < state.incarnation) return;
    const existing = this.suspicions.get(s.node);
    if (existing) {
      if (existing.confirm(s.from)) {
        this.queueBroadcast(s);
        this.armTimer(`ml.suspect:${s.node}`, Math.max(this.now, existing.deadlineMs));
      }
      return;
    }
    if (state.state !== 'alive') return;
    if (s.node === this.cfg.name) {
      this.log('WARN', `Refuting a suspect message (from: ${s.from})`);
      this.refute(state, s.inc);
      return;
    }
    this.queueBroadcast(s);
    this.counters.suspects++;
    state.incarnation = s.inc;
    state.state = 'suspect';
    state.stateChangeMs = this.now;
    const n = this.nodes.size;
    const k = this.cfg.lifeguard ? expectedConfirmations(this.cfg.suspicionMult, n) : 0;
    const minMs = suspicionTimeoutMs(this.cfg.suspicionMult, n, this.cfg.probeIntervalMs);
    const maxMs = this.cfg.lifeguard ? this.cfg.suspicionMaxTimeoutMult * minMs : minMs;
    const susp = new Suspicion(s.node, s.inc, this.now, k, minMs, maxMs, s.from);
    this.suspicions.set(s.node, susp);
    this.armTimer(`ml.suspect:${s.node}`, susp.deadlineMs);
  }

  private onSuspicionTimeout(name: string): void {
    const susp = this.suspicions.get(name);
    const state = this.nodes.get(name);
    if (!susp || !state) return;
    if (this.now < susp.deadlineMs) {
      this.armTimer(`ml.suspect:${name}`, susp.deadlineMs);
      return;
    }
    this.suspicions.delete(name);
    if (state.state !== 'suspect' || state.incarnation !== susp.incarnation) return;
    this.log('INFO', `Marking ${name} as failed, suspect timeout reached (${susp.confirmations} peer confirmations)`);
    this.deadNode({ t: 'gossip.dead', inc: state.incarnation, node: name, from: this.cfg.name });
  }

  deadNode(d: DeadMsg): void {
    const state = this.nodes.get(d.node);
    if (!state || d.inc < state.incarnation) return;
    this.clearSuspicion(d.node);
    if (state.state === 'dead' || state.state === 'left') return;
    if (d.node === this.cfg.name && !this.leaving) {
      this.log('WARN', `Refuting a dead message (from: ${d.from})`);
      this.refute(state, d.inc);
      return;
    }
    this.queueBroadcast(d);
    if (d.from !== d.node) this.counters.deadDeclared++;
    state.incarnation = d.inc;
    state.state = d.node === d.from ? 'left' : 'dead';
    state.stateChangeMs = this.now;
    this.delegate.notifyLeave(state);
  }

  private clearSuspicion(name: string): void {
    if (this.suspicions.delete(name)) this.out.push({ kind: 'cancelTimer', name: `ml.suspect:${name}` });
  }

  /** Out-bid an accusation: next incarnation above it, broadcast alive, and count it against our health. */
  private refute(self: NodeState, accusedInc: number): void {
    let inc = self.incarnation + 1;
    if (accusedInc >= inc) inc = accusedInc + 1;
    self.incarnation = inc;
    this.counters.refutes++;
    this.applyHealthDelta(1);
    this.queueBroadcast(this.selfAlive(inc));
  }

  /** Graceful leave: broadcast dead-from-self; peers mark us 'left'. */
  leave(): void {
    this.leaving = true;
    const s = this.self;
    this.deadNode({ t: 'gossip.dead', inc: s.incarnation, node: s.name, from: s.name });
  }

  anyAlive(): boolean {
    for (const n of this.nodes.values()) if (n.name !== this.cfg.name && (n.state === 'alive' || n.state === 'suspect')) return true;
    return false;
  }

  // ------------------------------------------------------------------------------ push-pull

  private onPushPullTick(): void {
    if (!this.running) return;
    this.armTimer('ml.pushPull', this.now + pushPullScaleMs(this.cfg.pushPullIntervalMs, this.nodes.size));
    if (this.leaving) return;
    const [peer] = this.kRandomNodes(1, (n) => n.state === 'alive');
    if (!peer) return;
    this.startPushPull(addrOf(peer), false, 0);
  }

  /** Full state exchange over a stream. `token` is handed back in pushPullDone. */
  startPushPull(addr: string, join: boolean, token: number): void {
    const id = this.nextPushPullId++;
    this.pushPulls.set(id, { addr, token });
    if (join) this.log('DEBUG', `Initiating push/pull sync with: ${addr}`);
    const msg: PushPullMsg = { t: 'gossip.pushPull', id, join, nodes: this.localNodeStates(), serf: this.delegate.localState(join) };
    this.out.push({ kind: 'send', fromPort: this.cfg.port, to: addr, via: 'tcp', msg });
    this.armTimer(`ml.pp:${id}`, this.now + this.cfg.tcpTimeoutMs);
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

  private onPushPull(from: string, msg: PushPullMsg): void {
    if (this.leaving) return;
    const reply: PushPullReplyMsg = { t: 'gossip.pushPullReply', id: msg.id, join: msg.join, nodes: this.localNodeStates(), serf: this.delegate.localState(msg.join) };
    this.out.push({ kind: 'send', fromPort: this.cfg.port, to: from, via: 'tcp', msg: reply });
    this.mergeState(msg.nodes);
    this.delegate.mergeRemoteState(msg.serf, msg.join);
  }

  private onPushPullReply(from: string, msg: PushPullReplyMsg): void {
    const pending = this.pushPulls.get(msg.id);
    if (!pending) return;
    this.pushPulls.delete(msg.id);
    this.out.push({ kind: 'cancelTimer', name: `ml.pp:${msg.id}` });
    this.mergeState(msg.nodes);
    this.delegate.mergeRemoteState(msg.serf, msg.join);
    this.delegate.pushPullDone(pending.token, pending.addr, null);
    void from;
  }

  /** A stream send failed: the push-pull it carried is over. */
  unreachable(msg: GossipMessage, reason: 'refused' | 'reset' | 'timeout', to: string): void {
    if (msg.t === 'gossip.pushPullReply') {
      // Our reply went out on a stale connection to a peer that restarted; it is waiting on a
      // fresh one, so resend once (memberlist answers on the caller's own connection instead).
      if (reason === 'reset' && !msg.resent && this.running) {
        this.out.push({ kind: 'send', fromPort: this.cfg.port, to, via: 'tcp', msg: { ...msg, resent: true } });
      }
      return;
    }
    if (msg.t !== 'gossip.pushPull') return;
    const pending = this.pushPulls.get(msg.id);
    if (!pending) return;
    this.pushPulls.delete(msg.id);
    this.out.push({ kind: 'cancelTimer', name: `ml.pp:${msg.id}` });
    this.failPushPull(pending, dialError(pending.addr, reason));
  }

  private onPushPullTimeout(id: number): void {
    const pending = this.pushPulls.get(id);
    if (!pending) return;
    this.pushPulls.delete(id);
    this.failPushPull(pending, dialError(pending.addr, 'timeout'));
  }

  private failPushPull(p: PendingPushPull, error: string): void {
    if (p.token === 0) this.log('ERR', `Push/Pull with ${p.addr} failed: ${error}`);
    this.delegate.pushPullDone(p.token, p.addr, error);
  }

  /** memberlist mergeState: a remote 'dead' only makes us suspect (we may know better). */
  private mergeState(remote: PushNodeState[]): void {
    if (!Array.isArray(remote)) return;
    for (const r of remote) {
      if (!r || typeof r.node !== 'string') continue;
      switch (r.state) {
        case 'alive':
          this.aliveNode({ t: 'gossip.alive', inc: r.inc, node: r.node, ip: r.ip, port: r.port, meta: r.meta ?? {}, vsn: r.vsn ?? [] }, false);
          break;
        case 'left':
          this.deadNode({ t: 'gossip.dead', inc: r.inc, node: r.node, from: r.node });
          break;
        case 'dead':
        case 'suspect':
          this.suspectNode({ t: 'gossip.suspect', inc: r.inc, node: r.node, from: this.cfg.name });
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
