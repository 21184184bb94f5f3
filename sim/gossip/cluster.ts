// sim/gossip/cluster.ts — a gossip pool in the simulated world: one SimWorld process per node,
// each running the core Host loop with the wire codec around a Serf machine.
//
// Owns: spawning/restarting gossip processes (Serf.recover from the host's disk snapshot),
// recording member events, user events, join results and leave completions for tests and the
// bench, and
// small helpers to ask "what does node X think of node Y".
// Must never: reach into a Serf except through its public API, or use real time/randomness.
import { wireCodec } from '../../core/codec/index.ts';
import { Host, type WireCodec } from '../../core/runtime/host.ts';
import { Serf, type GossipConfig, type GossipEffect, type GossipMessage, type Member } from '../../core/gossip/serf.ts';
import { SimWorld, type LinkConfig, type SimProcess, type SimProcessContext } from '../world.ts';

export const GOSSIP_DATA_DIR = '/data';

export interface GossipClusterOptions {
  seed: string | number;
  nodes: number;
  /** Overrides applied to every node's GossipConfig. */
  config?: Partial<GossipConfig>;
  link?: Partial<LinkConfig>;
  traceEnabled?: boolean;
}

export interface SimGossipNode {
  index: number;
  ip: string;
  name: string;
  serf: Serf | null;
  host: Host<GossipMessage, GossipEffect> | null;
  proc: SimProcess | null;
  lifetime: number;
  config: GossipConfig;
}

export interface RecordedEvent {
  atMs: number;
  /** Name of the node that saw the event. */
  at: string;
  type: 'join' | 'leave' | 'failed' | 'update' | 'reap';
  member: string;
}

export function gossipIp(i: number): string {
  return `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export class GossipCluster {
  readonly world: SimWorld;
  readonly nodes: SimGossipNode[] = [];
  readonly events: RecordedEvent[] = [];
  readonly joinResults = new Map<number, { atMs: number; contacted: number; errors: string[] }>();
  readonly leaveDone = new Map<number, number>();
  /** User events as each node delivered them (first sight only). */
  readonly userEvents: { atMs: number; at: string; ltime: number; name: string; payload: string }[] = [];
  readonly userEventResults = new Map<number, string | null>();
  /** Subscribers to every member event (bench: detection times). */
  onEvent: ((e: RecordedEvent) => void) | null = null;
  recordEvents = true;
  private nextReq = 1;

  constructor(readonly opts: GossipClusterOptions) {
    this.world = new SimWorld({ seed: opts.seed, traceEnabled: opts.traceEnabled ?? false, defaultLink: opts.link });
    for (let i = 0; i < opts.nodes; i++) {
      const ip = gossipIp(i);
      const name = `n${i + 1}`;
      this.world.addHost(ip, name);
      this.nodes.push({
        index: i, ip, name, serf: null, host: null, proc: null, lifetime: 0,
        config: { name, ip, port: 8301, profile: 'lan', tags: { role: 'node', dc: 'dc1' }, ...(opts.config ?? {}) },
      });
    }
  }

  node(nameOrIp: string | number): SimGossipNode {
    const n = typeof nameOrIp === 'number' ? this.nodes[nameOrIp] : this.nodes.find((x) => x.name === nameOrIp || x.ip === nameOrIp);
    if (!n) throw new Error(`gossip cluster: no node '${nameOrIp}' (have n1..n${this.nodes.length})`);
    return n;
  }

  /** Spawn the agent process on node i (fresh, or restarted from its disk snapshot). */
  start(nameOrIp: string | number, over: Partial<GossipConfig> = {}): SimGossipNode {
    const n = this.node(nameOrIp);
    n.config = { ...n.config, ...over };
    n.proc = this.world.host(n.ip).spawn(['muster', 'gossip', n.name], (ctx) => this.main(n, ctx));
    return n;
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.index);
  }

  private main(n: SimGossipNode, ctx: SimProcessContext): void {
    const snapPath = `${GOSSIP_DATA_DIR}/${n.config.profile === 'wan' ? 'serf/remote.snapshot' : 'serf/local.snapshot'}`;
    const serf = Serf.recover(n.config, ctx.ports.disk.read(snapPath), this.world.rng.fork(`gossip/${n.name}/${++n.lifetime}`));
    const host = new Host<GossipMessage, GossipEffect>({
      ports: ctx.ports,
      dataDir: GOSSIP_DATA_DIR,
      listen: { udp: [n.config.port], tcp: [n.config.port] },
      codec: wireCodec as unknown as WireCodec<GossipMessage>,
      extraEffect: (e) => this.onEffect(n, e),
    });
    n.serf = serf;
    n.host = host;
    host.start(serf);
    ctx.onSignal(() => {
      host.stop();
      ctx.exit(0);
    });
    host.deliver({ kind: 'start' });
  }

  private onEffect(n: SimGossipNode, e: GossipEffect): boolean {
    switch (e.kind) {
      case 'memberEvent': {
        const ev: RecordedEvent = { atMs: this.world.nowMs(), at: n.name, type: e.type, member: e.member.name };
        if (this.recordEvents) this.events.push(ev);
        this.onEvent?.(ev);
        return true;
      }
      case 'joinResult':
        this.joinResults.set(e.reqId, { atMs: this.world.nowMs(), contacted: e.contacted, errors: e.errors });
        return true;
      case 'leaveDone':
        this.leaveDone.set(e.reqId, this.world.nowMs());
        return true;
      case 'userEvent':
        this.userEvents.push({ atMs: this.world.nowMs(), at: n.name, ltime: e.ltime, name: e.name, payload: new TextDecoder().decode(e.payload) });
        return true;
      case 'userEventResult':
        this.userEventResults.set(e.reqId, e.error);
        return true;
      default:
        return false;
    }
  }

  /** `consul join` on node `from`; returns the reqId whose result lands in joinResults. */
  join(from: string | number, addrs: string[]): number {
    const reqId = this.nextReq++;
    this.running(from).host!.deliver({ kind: 'join', reqId, addrs });
    return reqId;
  }

  /** serf UserEvent on node `from`; the result (null = sent, else the error) lands in userEventResults. */
  fireEvent(from: string | number, name: string, payload: string | Uint8Array, coalesce = false): number {
    const reqId = this.nextReq++;
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    this.running(from).host!.deliver({ kind: 'userEvent', reqId, name, payload: bytes, coalesce });
    return reqId;
  }

  /** Graceful leave; the process exits once the leave completes. Returns the reqId. */
  leave(from: string | number): number {
    const n = this.running(from);
    const reqId = this.nextReq++;
    const proc = n.proc!;
    const host = n.host!;
    host.deliver({ kind: 'leave', reqId });
    const poll = (): void => {
      if (this.leaveDone.has(reqId)) {
        host.stop();
        if (!proc.exited) proc.signal('SIGTERM');
        return;
      }
      this.world.schedule(this.world.nowMs() + 50, 'gossip.leave.poll', poll);
    };
    this.world.schedule(this.world.nowMs() + 50, 'gossip.leave.poll', poll);
    return reqId;
  }

  /** Stop the agent process (SIGTERM, no leave): the host stays up, so dials are refused. */
  stop(nameOrIp: string | number): void {
    const n = this.node(nameOrIp);
    if (n.proc && !n.proc.exited) n.proc.signal('SIGTERM');
  }

  crash(nameOrIp: string | number): void {
    this.world.host(this.node(nameOrIp).ip).crash();
  }

  stall(nameOrIp: string | number, durationMs: number): void {
    this.world.host(this.node(nameOrIp).ip).stall(durationMs);
  }

  isRunning(nameOrIp: string | number): boolean {
    const n = this.node(nameOrIp);
    return !!n.proc && !n.proc.exited && !!n.host?.running;
  }

  private running(nameOrIp: string | number): SimGossipNode {
    const n = this.node(nameOrIp);
    if (!this.isRunning(n.index)) throw new Error(`gossip cluster: ${n.name} is not running`);
    return n;
  }

  /** Status of `subject` in `viewer`'s member list (undefined = unknown). */
  statusOf(viewer: string | number, subject: string | number): Member['status'] | undefined {
    const v = this.node(viewer);
    const s = this.node(subject);
    return v.serf?.members().find((m) => m.name === s.name)?.status;
  }

  /** Every running node sees exactly the running set as alive (and nothing else alive). */
  converged(): boolean {
    const live = this.nodes.filter((n) => this.isRunning(n.index));
    const want = live.map((n) => n.name).sort().join(',');
    return live.every((n) => n.serf!.members().filter((m) => m.status === 'alive').map((m) => m.name).join(',') === want);
  }

  /** Log lines (stdout) of the current process on a node. */
  output(nameOrIp: string | number): string[] {
    return this.node(nameOrIp).proc?.output ?? [];
  }

  diskText(nameOrIp: string | number, path = 'serf/local.snapshot'): string | null {
    return this.world.host(this.node(nameOrIp).ip).disk.readText(`${GOSSIP_DATA_DIR}/${path}`);
  }
}
