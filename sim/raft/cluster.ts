// sim/raft/cluster.ts — N Raft servers in a SimWorld, each its own process, with a client workload.
//
// Owns: spawning one process per server (core Host + RaftNode.recover from the host's disk,
// messages through the wire codec), a tiny FSM per process (a rolling digest of applied
// commands, snapshotted on request), the proposal workload, and wiring every step into the
// RaftChecker.
// Adversaries (adversary.ts) watch every step through `stepHooks` and act like the world
// would: crashes, partitions, dropped sends of a process that dies mid-step, timers that fire.
// Must never: reach into a node to change its state; everything goes through inputs.
import { Host, type WireCodec } from '../../core/runtime/host.ts';
import { wireCodec } from '../../core/codec/index.ts';
import { RaftNode, defaultRaftConfig, type RaftConfig, type RaftEffect, type RaftInput, type RaftMessage } from '../../core/raft/node.ts';
import { SimWorld, type SimProcessContext, type LinkConfig } from '../world.ts';
import { RaftChecker } from '../fuzz/raft/checkers.ts';

export const DATA_DIR = '/data';
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface ClusterOptions {
  seed: string | number;
  servers: number;
  config?: Partial<RaftConfig>;
  link?: Partial<LinkConfig>;
  traceEnabled?: boolean;
}

interface Server {
  ip: string;
  id: string;
  node: RaftNode | null;
  host: Host<RaftMessage, RaftEffect> | null;
  /** FSM: applied count and digest, as of `fsmIndex`. */
  fsmIndex: number;
  fsmDigest: string;
  lifetime: number;
}

export interface Proposal {
  reqId: number;
  data: string;
  server: string;
  /** The server's process lifetime it was sent to; a restart loses it. */
  lifetime: number;
  sentMs: number;
  doneMs: number | null;
  ok: boolean | null;
  error?: string;
  index?: number;
}

export class RaftCluster {
  readonly world: SimWorld;
  readonly checker = new RaftChecker();
  readonly servers: Server[] = [];
  readonly proposals = new Map<number, Proposal>();
  readonly config: Partial<RaftConfig>;
  private nextReq = 1;
  /** Every stateChange seen: for the bench's failover timing. */
  readonly stateChanges: { atMs: number; id: string; state: string; term: number; leader: string | null }[] = [];
  elections = 0;
  /** Called when a proposal is answered (closed-loop clients in the bench). */
  onResult: ((p: Proposal) => void) | null = null;
  /** Observers that may rewrite a step's effects (only by dropping sends: the process died
   *  before the network write) and act on the world. Called in order after every step. */
  readonly stepHooks: StepHook[] = [];

  constructor(readonly opts: ClusterOptions) {
    this.world = new SimWorld({ seed: opts.seed, traceEnabled: opts.traceEnabled ?? false, defaultLink: opts.link });
    this.config = opts.config ?? {};
    for (let i = 1; i <= opts.servers; i++) {
      const ip = `10.0.0.${i}`;
      this.world.addHost(ip, `s${i}`);
      this.servers.push({ ip, id: `${ip}:8300`, node: null, host: null, fsmIndex: 0, fsmDigest: '0', lifetime: 0 });
    }
    const peers = JSON.stringify(this.servers.map((s) => s.id));
    for (const s of this.servers) this.world.host(s.ip).disk.writeText(`${DATA_DIR}/raft/peers.json`, peers);
    this.checker.allNodes = () => this.servers.filter((s) => s.node !== null).map((s) => [s.id, s.node!] as [string, RaftNode]);
  }

  get ids(): string[] {
    return this.servers.map((s) => s.id);
  }

  server(idOrIp: string): Server {
    const s = this.servers.find((x) => x.id === idOrIp || x.ip === idOrIp);
    if (!s) throw new Error(`no server ${idOrIp}`);
    return s;
  }

  startAll(): void {
    for (const s of this.servers) this.world.host(s.ip).spawn(['muster', 'raft'], (ctx) => this.main(s, ctx));
  }

  private main(s: Server, ctx: SimProcessContext): void {
    const config: RaftConfig = { ...defaultRaftConfig(s.id), ...this.config, id: s.id, port: 8300 };
    const disk = ctx.ports.disk;
    const node = RaftNode.recover(
      config,
      { read: (p) => disk.read(`${DATA_DIR}/${p}`), list: (d) => disk.list(`${DATA_DIR}/${d}`) },
      { rng: this.world.rng.fork(`raft/${s.id}/${++s.lifetime}`) },
    );
    s.node = node;
    s.fsmIndex = 0;
    s.fsmDigest = '0';
    this.checker.newLifetime(s.id);
    const via = config.via ?? 'tcp';
    const host: Host<RaftMessage, RaftEffect> = new Host<RaftMessage, RaftEffect>({
      ports: ctx.ports,
      dataDir: DATA_DIR,
      listen: via === 'udp' ? { udp: [8300], tcp: [] } : { udp: [], tcp: [8300] },
      codec: wireCodec as unknown as WireCodec<RaftMessage>,
      extraEffect: (e) => this.onEffect(s, e),
    });
    s.host = host;
    const machine = {
      step: (nowMs: number, input: RaftInput): RaftEffect[] => {
        let eff = node.step(nowMs, input);
        eff = this.maybeCrashMidStep(s, input, eff);
        for (const h of this.stepHooks) eff = h(s.id, node, input, eff, nowMs);
        this.checker.afterStep(nowMs, s.id, node, eff);
        for (const e of eff) {
          if (e.kind === 'stateChange') {
            this.stateChanges.push({ atMs: nowMs, id: s.id, state: e.state, term: e.term, leader: e.leader });
            if (e.state === 'Candidate') this.elections++;
          }
        }
        return eff;
      },
    };
    host.start(machine);
    ctx.onSignal(() => {
      host.stop();
      ctx.exit(0);
    });
    host.deliver({ kind: 'start' });
  }

  /** Armed "crash at the worst moment" faults (see schedule.ts), consumed when they fire. */
  readonly armed: { kind: 'afterVote' | 'beforeSend'; downMs: number }[] = [];

  /** Crash a server right after it granted a vote, or a leader between persisting a new entry
   *  and sending it (the sends are dropped: the process died before the network write). */
  private maybeCrashMidStep(s: Server, input: RaftInput, eff: RaftEffect[]): RaftEffect[] {
    if (this.armed.length === 0) return eff;
    const i = this.armed.findIndex((a) =>
      a.kind === 'afterVote'
        ? eff.some((e) => e.kind === 'send' && (e.msg as RaftMessage).t === 'raft.voteResp' && (e.msg as { granted: boolean; pre: boolean }).granted && !(e.msg as { pre: boolean }).pre)
        : input.kind === 'propose' && s.node?.state === 'Leader',
    );
    if (i < 0) return eff;
    const [a] = this.armed.splice(i, 1);
    this.crashNow(s.ip, a!.downMs);
    return a!.kind === 'beforeSend' ? eff.filter((e) => e.kind !== 'send') : eff;
  }

  /** Crash a host as soon as the current event finishes; restart it downMs later (null: stay
   *  down until restartNow or the heal). */
  crashNow(ip: string, downMs: number | null): void {
    const w = this.world;
    w.schedule(w.nowMs(), `fault crash ${ip}`, () => {
      if (w.host(ip).processes().length === 0) return;
      w.host(ip).crash();
      if (downMs !== null) w.schedule(w.nowMs() + downMs, `fault restart ${ip}`, () => this.restartNow(ip));
    });
  }

  restartNow(ip: string): void {
    if (this.world.host(ip).processes().length === 0) this.world.host(ip).restart();
  }

  /** Deliver an input to a live server's node at the current virtual time (as its own event,
   *  never from inside another server's step). */
  deliverSoon(id: string, input: RaftInput, label: string): void {
    const w = this.world;
    w.schedule(w.nowMs(), label, () => {
      const s = this.server(id);
      if (s.host?.running && w.host(s.ip).processes().length > 0) s.host.deliver(input);
    });
  }

  /** An operator's single-server membership change, sent to whoever leads (tracked like a
   *  proposal so liveness waits for its answer). */
  changePeers(op: 'addPeer' | 'removePeer', addr: string): void {
    const l = this.leader();
    if (!l) return;
    const s = this.server(l[0]);
    const reqId = this.nextReq++;
    this.proposals.set(reqId, { reqId, data: `${op}:${addr}`, server: s.id, lifetime: s.lifetime, sentMs: this.world.nowMs(), doneMs: null, ok: null });
    s.host!.deliver({ kind: op, addr, reqId });
  }

  private onEffect(s: Server, e: RaftEffect): boolean {
    switch (e.kind) {
      case 'apply':
        s.fsmIndex = e.index;
        s.fsmDigest = digest(s.fsmDigest, dec.decode(e.data));
        return true;
      case 'restoreSnapshot': {
        const st = JSON.parse(dec.decode(e.data)) as { index: number; digest: string };
        s.fsmIndex = st.index;
        s.fsmDigest = st.digest;
        return true;
      }
      case 'takeSnapshot': {
        const data = enc.encode(JSON.stringify({ index: s.fsmIndex, digest: s.fsmDigest }));
        s.host!.deliver({ kind: 'snapshotTaken', index: s.fsmIndex, term: 0, data });
        return true;
      }
      case 'proposeResult': {
        const p = this.proposals.get(e.reqId);
        if (p && p.doneMs === null) {
          p.doneMs = this.world.nowMs();
          p.ok = e.ok;
          p.error = e.error;
          p.index = e.index;
          this.onResult?.(p);
        }
        return true;
      }
      case 'readResult':
      case 'stateChange':
        return true;
      default:
        return false;
    }
  }

  /** Live (running) servers with their nodes. */
  live(): [string, RaftNode][] {
    const out: [string, RaftNode][] = [];
    for (const s of this.servers) {
      if (s.node && s.host?.running && this.world.host(s.ip).processes().length > 0) out.push([s.id, s.node]);
    }
    return out;
  }

  leader(): [string, RaftNode] | null {
    let best: [string, RaftNode] | null = null;
    for (const [id, n] of this.live()) if (n.state === 'Leader' && (!best || n.term > best[1].term)) best = [id, n];
    return best;
  }

  /** A client sends one proposal to whoever it believes leads (or a random live server). */
  propose(): void {
    const live = this.live();
    if (live.length === 0) return;
    const l = this.leader();
    const [id] = l ?? live[this.world.rng.int(live.length)]!;
    const s = this.server(id);
    const reqId = this.nextReq++;
    const data = `c${reqId}`;
    this.proposals.set(reqId, { reqId, data, server: id, lifetime: s.lifetime, sentMs: this.world.nowMs(), doneMs: null, ok: null });
    s.host!.deliver({ kind: 'propose', reqId, data: enc.encode(data) });
  }

  /** Schedule a proposal every `everyMs` from now until `untilMs`. */
  workload(everyMs: number, untilMs: number): void {
    const tick = (): void => {
      if (this.world.nowMs() > untilMs) return;
      this.propose();
      this.world.schedule(this.world.nowMs() + everyMs, 'client.propose', tick);
    };
    this.world.schedule(this.world.nowMs() + everyMs, 'client.propose', tick);
  }

  /** Proposals still unanswered whose server process is alive (a killed server's are lost with it). */
  pendingOnLive(): Proposal[] {
    const liveIds = new Set(this.live().map(([id]) => id));
    const out: Proposal[] = [];
    for (const p of this.proposals.values()) {
      if (p.doneMs !== null || !liveIds.has(p.server) || this.server(p.server).lifetime !== p.lifetime) continue;
      out.push(p);
    }
    return out;
  }
}

export type StepHook = (id: string, node: RaftNode, input: RaftInput, effects: RaftEffect[], nowMs: number) => RaftEffect[];

function digest(prev: string, data: string): string {
  let h = 2166136261;
  const s = prev + '|' + data;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}
