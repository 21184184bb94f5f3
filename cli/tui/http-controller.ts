// cli/tui/http-controller.ts — watching a real cluster through one agent's HTTP API, read-only.
//
// Owns: three refresh loops against the agent — a 1 s poll of self/members/leader/raft
// configuration, a blocking query on /v1/health/state/any that re-reads the services when
// the catalog changes, and a long-poll of /v1/agent/monitor feeding the timeline — plus
// turning their answers into a ClusterModel, and saying so (and retrying) when the agent is
// unreachable.
// Must never: change the cluster (no PUTs), or crash when the agent goes away or answers junk.
import type { HttpClient } from '../http-client.ts';
import { Timeline, serviceViews, type ClusterModel, type GossipStatus, type NodeRole, type NodeView } from '../../sim/tui-model.ts';
import type { ServiceInstance } from '../../core/catalog/types.ts';
import type { Action, TuiController } from './controller.ts';

export interface HttpControllerOptions {
  addr: string;
  http: HttpClient;
  /** Poll period of self/members/leader (real ms). */
  pollMs?: number;
  /** Blocking-query wait handed to the agent. */
  waitText?: string;
  /** First retry delay after a failure; doubles up to 5 s. */
  retryMs?: number;
  /** Wall clock for the timeline (ms); injectable for tests. */
  nowMs?: () => number;
}

interface MemberJson {
  Name: string;
  Addr: string;
  Port: number;
  Tags: Record<string, string>;
  Status: number;
}

interface RaftServerJson {
  Node: string;
  Address: string;
  Leader: boolean;
}

const STATUS_BY_CODE: Record<number, GossipStatus> = { 1: 'alive', 2: 'leaving', 3: 'left', 4: 'failed' };

export class HttpController implements TuiController {
  readonly readOnly = true;
  readonly paused = false;
  readonly speed = 1;
  private readonly listeners = new Set<() => void>();
  private stopped = false;
  private started = false;
  private readonly timeline = new Timeline(200);
  private readonly t0: number;
  private readonly now: () => number;
  private sleeps = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();

  // Last good answers.
  private self: { Config?: Record<string, unknown>; Stats?: Record<string, Record<string, string>>; Member?: MemberJson } | null = null;
  private members: MemberJson[] = [];
  private leaderAddr = '';
  private raftServers: RaftServerJson[] = [];
  private services = new Map<string, ServiceInstance[]>();
  private connection: { ok: boolean; message: string } | null = null;
  private lastOkAt: number | null = null;
  private cached: ClusterModel | null = null;

  constructor(private readonly opts: HttpControllerOptions) {
    this.now = opts.nowMs ?? (() => Date.now());
    this.t0 = this.now();
  }

  // ---------------------------------------------------------------- controller contract

  model(): ClusterModel {
    if (!this.cached) this.cached = this.build();
    return this.cached;
  }

  act(_action: Action, _node: string | null): string | null {
    return 'read-only view: keys do not act';
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop('state', () => this.pollState(), this.opts.pollMs ?? 1000);
    void this.loop('catalog', (i) => this.watchServices(i), 0);
    void this.loop('monitor', (i) => this.watchMonitor(i), 0);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeps.clear();
    this.listeners.clear();
  }

  private changed(): void {
    this.cached = null;
    for (const l of [...this.listeners]) l();
  }

  // ---------------------------------------------------------------- loops

  /** Runs body forever: `pauseMs` between good rounds, growing back-off after failures. */
  private async loop(_name: string, body: (index: number) => Promise<number>, pauseMs: number): Promise<void> {
    let index = 0;
    let retry = this.opts.retryMs ?? 1000;
    while (!this.stopped) {
      try {
        index = await body(index);
        retry = this.opts.retryMs ?? 1000;
        if (pauseMs > 0) await this.sleep(pauseMs);
      } catch (err) {
        if (this.stopped) return;
        this.fail(err, retry);
        await this.sleep(retry);
        retry = Math.min(5000, retry * 2);
        index = 0;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => {
        this.sleeps.delete(entry);
        resolve();
      }, ms), resolve };
      this.sleeps.add(entry);
    });
  }

  private fail(err: unknown, retryMs: number): void {
    const reason = (err as { reason?: unknown } | null)?.reason;
    const what = typeof reason === 'string' ? reason : err instanceof Error ? err.message.split('. ')[0]! : String(err);
    const message = `agent ${this.opts.addr} not answering (${what}); retrying in ${retryMs < 1000 ? `${retryMs}ms` : `${Math.round(retryMs / 100) / 10}s`}`;
    if (this.connection?.ok !== false) this.timeline.note(this.now() - this.t0, 'fault', 'tui', `lost the agent at ${this.opts.addr}`);
    this.connection = { ok: false, message };
    this.changed();
  }

  private ok(): void {
    if (this.connection && !this.connection.ok) this.timeline.note(this.now() - this.t0, 'info', 'tui', `agent ${this.opts.addr} is back`);
    this.lastOkAt = this.now();
    this.connection = { ok: true, message: `agent ${this.opts.addr}` };
  }

  private async get(path: string): Promise<{ status: number; text: string; index: number }> {
    const r = await this.opts.http.request(this.opts.addr, 'GET', path);
    const index = Number(r.headers['x-consul-index'] ?? '0');
    return { status: r.status, text: new TextDecoder().decode(r.body), index: Number.isFinite(index) ? index : 0 };
  }

  private async getJson<T>(path: string): Promise<T | null> {
    const r = await this.get(path);
    if (r.status !== 200) return null; // e.g. 500 "No cluster leader": keep the last answer
    try {
      return JSON.parse(r.text) as T;
    } catch {
      return null;
    }
  }

  /** self, members, leader and the raft configuration: plain polls. */
  async pollState(): Promise<number> {
    const self = await this.getJson<HttpController['self']>('/v1/agent/self');
    this.ok();
    if (self) this.self = self;
    const members = await this.getJson<MemberJson[]>('/v1/agent/members');
    if (Array.isArray(members)) this.members = members;
    const leader = await this.getJson<string>('/v1/status/leader');
    this.leaderAddr = typeof leader === 'string' ? leader : '';
    const raft = await this.getJson<{ Servers?: RaftServerJson[] }>('/v1/operator/raft/configuration?stale');
    this.raftServers = Array.isArray(raft?.Servers) ? raft.Servers : [];
    this.changed();
    return 0;
  }

  /** Blocks on the health index; on each change re-reads every service's instances. */
  async watchServices(index: number): Promise<number> {
    const wait = this.opts.waitText ?? '30s';
    const r = await this.get(`/v1/health/state/any?index=${index}&wait=${wait}`);
    this.ok();
    if (r.status !== 200) {
      this.changed();
      await this.sleep(this.opts.retryMs ?? 1000);
      return 0;
    }
    if (r.index === index && index !== 0) {
      await this.sleep(250); // an agent that does not block must not make this a busy loop
      return index;
    }
    const names = await this.getJson<Record<string, string[]>>('/v1/catalog/services?stale');
    const next = new Map<string, ServiceInstance[]>();
    for (const name of Object.keys(names ?? {}).sort()) {
      const list = await this.getJson<ServiceInstance[]>(`/v1/health/service/${encodeURIComponent(name)}?stale`);
      if (Array.isArray(list)) next.set(name, list.filter((x) => x && x.Node && x.Service && Array.isArray(x.Checks)));
    }
    this.services = next;
    this.changed();
    return r.index;
  }

  /** Long-polls the agent's log and feeds the timeline. */
  async watchMonitor(index: number): Promise<number> {
    if (this.members.length === 0) {
      await this.sleep(50); // names first, so addresses in log lines read as node names
      return index;
    }
    const wait = this.opts.waitText ?? '30s';
    const r = await this.get(`/v1/agent/monitor?loglevel=info&index=${index}&wait=${wait}`);
    this.ok();
    if (r.status !== 200) {
      await this.sleep(this.opts.retryMs ?? 1000);
      return index;
    }
    if (r.text.trim() === '') await this.sleep(250);
    const node = this.selfName();
    const term = Number(this.self?.Stats?.raft?.term ?? NaN);
    const at = this.now() - this.t0;
    const nameOf = this.nameResolver();
    for (const line of r.text.split('\n')) {
      if (line.trim() === '') continue;
      this.timeline.addLog({ atMs: at, node, line, term: Number.isFinite(term) ? term : null }, nameOf);
    }
    this.changed();
    return r.index > index ? r.index : index;
  }

  // ---------------------------------------------------------------- model

  private selfName(): string {
    return String(this.self?.Config?.NodeName ?? this.self?.Member?.Name ?? this.opts.addr);
  }

  private nameResolver(): (addr: string) => string {
    const byIp = new Map<string, string>();
    for (const m of this.members) byIp.set(m.Addr, m.Name);
    for (const s of this.raftServers) if (s.Node) byIp.set(s.Address.slice(0, s.Address.lastIndexOf(':')), s.Node);
    return (addr: string) => {
      const ip = addr.includes(':') ? addr.slice(0, addr.lastIndexOf(':')) : addr;
      return byIp.get(ip) ?? addr;
    };
  }

  private build(): ClusterModel {
    const nameOf = this.nameResolver();
    const selfName = this.selfName();
    const raftStats = this.self?.Stats?.raft;
    const peers = this.raftServers.map((s) => s.Node || nameOf(s.Address)).sort();
    const leaderName = this.leaderAddr ? nameOf(this.leaderAddr) : null;
    const members = this.members.length > 0 ? this.members : this.self?.Member ? [this.self.Member] : [];
    const nodes: NodeView[] = members
      .filter((m) => m && typeof m.Name === 'string')
      .map((m) => {
        const server = m.Tags?.role === 'consul';
        const gossip = STATUS_BY_CODE[m.Status] ?? 'unknown';
        const isSelf = m.Name === selfName;
        const inRaft = peers.includes(m.Name);
        let role: NodeRole = server ? (leaderName === m.Name ? 'Leader' : inRaft ? 'Follower' : 'Unknown') : 'Client';
        if (gossip === 'failed' || gossip === 'left') role = 'Down';
        if (isSelf && raftStats?.state) role = raftStats.state as NodeRole;
        const num = (k: string): number | null => (isSelf && raftStats && raftStats[k] !== undefined ? Number(raftStats[k]) : null);
        return {
          name: m.Name,
          addr: m.Addr,
          server,
          running: gossip === 'alive' || gossip === 'leaving',
          role,
          term: num('term'),
          commitIndex: num('commit_index'),
          appliedIndex: num('applied_index'),
          lastContact: isSelf && raftStats ? (raftStats.last_contact ?? null) : null,
          votedFor: null,
          leader: server ? leaderName : null,
          gossip,
          peers: server && inRaft ? peers : [],
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const since = this.lastOkAt !== null && this.connection && !this.connection.ok ? ` (last answer ${Math.round((this.now() - this.lastOkAt) / 1000)}s ago)` : '';
    return {
      mode: 'http',
      title: `real cluster ${this.opts.addr}${this.self?.Config?.Datacenter ? ` ${String(this.self.Config.Datacenter)}` : ''}`,
      seed: null,
      nowMs: null,
      traceHash: null,
      nodes,
      events: this.timeline.events(),
      network: null,
      services: serviceViews(this.services),
      connection: this.connection ? { ok: this.connection.ok, message: this.connection.message + since } : null,
      status: null,
    };
  }
}
