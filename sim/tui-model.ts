// sim/tui-model.ts — what the terminal UI shows, as plain data, and the simulator-side observer
// that fills it in from a SimWorld and its running agents.
//
// Owns: the ClusterModel vocabulary (shared with the real-cluster poller in cli/tui), the
// log-line → timeline-event parser and its de-duplication, and SimObserver: stepping the world
// in virtual time while collecting agent log lines, applying the TUI's faults (isolate, heal,
// crash, restart, leave) and reading Raft/gossip/catalog state into a ClusterModel.
// Must never: change an agent's state except through what a user could do to a host (network
// cuts, crashes, restarts, signals); hold rendering code; read a real clock.
import type { SimProcess, SimWorld } from './world.ts';
import type { SimAgent } from './cluster/agents.ts';
import type { Agent } from '../core/agent/agent.ts';
import { filterHealthy } from '../core/dns/health.ts';
import type { HealthStatus, ServiceInstance } from '../core/catalog/types.ts';

// ------------------------------------------------------------------------------ the model

export type NodeRole = 'Leader' | 'Follower' | 'Candidate' | 'Client' | 'Down' | 'Unknown';
export type GossipStatus = 'alive' | 'suspect' | 'leaving' | 'left' | 'failed' | 'down' | 'unknown';

export interface NodeView {
  name: string;
  addr: string;
  server: boolean;
  running: boolean;
  role: NodeRole;
  term: number | null;
  commitIndex: number | null;
  appliedIndex: number | null;
  /** Consul's raft `last_contact`: 'never', '0' (leader) or a Go duration. */
  lastContact: string | null;
  /** Who this node voted for in its current term (node name when known). */
  votedFor: string | null;
  /** The leader this node believes in (node name when known). */
  leader: string | null;
  /** Status of this node in the gossip pool, as most other nodes see it. */
  gossip: GossipStatus;
  /** Raft peer set (node names when known). */
  peers: string[];
}

export type EventKind =
  | 'election'
  | 'won'
  | 'leader'
  | 'lost'
  | 'vote-rejected'
  | 'no-peers'
  | 'bootstrap'
  | 'peer-added'
  | 'peer-removed'
  | 'step-down'
  | 'join'
  | 'leave'
  | 'failed'
  | 'suspect'
  | 'reap'
  | 'shutdown'
  | 'fault'
  | 'info';

export interface TimelineEvent {
  seq: number;
  /** Virtual ms (sim) or wall ms since the UI started (real); null when unknown. */
  atMs: number | null;
  kind: EventKind;
  /** The node that logged it (first one, when several logged the same fact). */
  node: string;
  /** Everyone who logged this same fact within the de-duplication window. */
  seenBy: string[];
  text: string;
}

export interface LinkView {
  from: string;
  to: string;
  count: number;
  /** The network drops this direction right now (partition, isolation). */
  cut: boolean;
}

export interface NetworkView {
  links: LinkView[];
  /** Groups of nodes that can talk among themselves; null when nothing is partitioned. */
  groups: string[][] | null;
}

export interface ServiceInstanceView {
  service: string;
  node: string;
  address: string;
  port: number;
  tags: string[];
  /** Worst check status of the instance (its own checks and its node's). */
  status: HealthStatus;
  /** Would a DNS lookup of `<service>.service.consul` hand out this instance? */
  inDns: boolean;
}

export interface ClusterModel {
  mode: 'sim' | 'scenario' | 'http';
  title: string;
  seed: string | null;
  /** Virtual time (sim) in ms; null for a real cluster. */
  nowMs: number | null;
  traceHash: string | null;
  nodes: NodeView[];
  events: TimelineEvent[];
  network: NetworkView | null;
  services: ServiceInstanceView[];
  /** Real mode: whether the agent answered the last refresh, and what went wrong if not. */
  connection: { ok: boolean; message: string } | null;
  /** Scenario mode: a line about the scenario's progress (step n/m, passed, failed …). */
  status: string | null;
}

// ------------------------------------------------------------------------------ log parsing

export interface LogRecord {
  atMs: number | null;
  node: string;
  line: string;
  /** The logging node's Raft term when the line was seen (null for clients / unknown). */
  term: number | null;
}

interface ParsedLine {
  kind: EventKind;
  /** What the fact is about; events with the same kind+subject+text from different nodes merge. */
  text: string;
  /** true when the same fact from several nodes should merge into one event. */
  shared: boolean;
}

const LINE_RE = /\[(TRACE|DEBUG|INFO|WARN|ERR)\]\s+(?:([a-z]+):\s+)?(.*)$/;

/** Turns an agent log line into a timeline fact, or null when it is noise for the timeline. */
export function parseLogLine(line: string, term: number | null, nameOf: (addr: string) => string): ParsedLine | null {
  const m = LINE_RE.exec(line);
  if (!m) return null;
  const source = m[2] ?? '';
  const text = m[3]!;
  const t = term !== null ? ` t${term}` : '';
  let x: RegExpExecArray | null;
  if (source === 'raft') {
    if (/\[Candidate\] entering Candidate state/.test(text)) return { kind: 'election', text: `starts election${t}`, shared: false };
    if ((x = /^Election won\. Tally: (\d+)/.exec(text))) return { kind: 'won', text: `wins election${t} (tally ${x[1]})`, shared: false };
    if ((x = /^Rejecting vote from (\S+) since we have a leader: (\S+)/.exec(text)))
      return { kind: 'vote-rejected', text: `rejects vote from ${nameOf(x[1]!)} (leader ${nameOf(x[2]!)})`, shared: false };
    if (/^EnableSingleNode disabled, and no known peers/.test(text)) return { kind: 'no-peers', text: 'no known peers, not electing', shared: false };
    if ((x = /^Added peer (\S+),/.exec(text))) return { kind: 'peer-added', text: `adds peer ${nameOf(x[1]!)}`, shared: false };
    if ((x = /^Removed peer (\S+),/.exec(text))) return { kind: 'peer-removed', text: `removes peer ${nameOf(x[1]!)}`, shared: false };
    if (/^Removed ourself/.test(text)) return { kind: 'peer-removed', text: 'removed itself from the peers', shared: false };
    if (/^Failed to contact quorum of nodes, stepping down/.test(text)) return { kind: 'step-down', text: 'lost quorum, steps down', shared: false };
    return null;
  }
  if (source === 'consul') {
    if ((x = /^New leader elected: (\S+)/.exec(text))) return { kind: 'leader', text: `leader is ${x[1]}`, shared: true };
    if (/^cluster leadership lost/.test(text)) return { kind: 'lost', text: 'lost leadership', shared: false };
    // The leader's reconcile lines say the same as serf's member events (and are what
    // /v1/agent/monitor carries), so they merge with them.
    if ((x = /^member '([^']+)' (joined|left|failed|reaped)/.exec(text))) {
      const kind: EventKind = x[2] === 'joined' ? 'join' : x[2] === 'left' ? 'leave' : x[2] === 'failed' ? 'failed' : 'reap';
      return { kind, text: `${x[1]} ${x[2]}`, shared: true };
    }
    if ((x = /^Attempting bootstrap with nodes: \[(.*)\]/.exec(text)))
      return { kind: 'bootstrap', text: `bootstraps with ${x[1]!.split(' ').filter(Boolean).map(nameOf).join(',')}`, shared: false };
    return null;
  }
  if (source === 'serf') {
    if ((x = /^Event(MemberJoin|MemberLeave|MemberFailed|MemberReap): (\S+)/.exec(text))) {
      const who = x[2]!;
      if (who.includes('.')) return null; // WAN pool member (n2.dc1): the LAN event says it already
      const kind: EventKind = x[1] === 'MemberJoin' ? 'join' : x[1] === 'MemberLeave' ? 'leave' : x[1] === 'MemberFailed' ? 'failed' : 'reap';
      const verb = kind === 'join' ? 'joined' : kind === 'leave' ? 'left' : kind === 'failed' ? 'failed' : 'reaped';
      return { kind, text: `${who} ${verb}`, shared: true };
    }
    return null;
  }
  if (source === 'memberlist') {
    if ((x = /^Suspect (\S+) has failed/.exec(text))) return { kind: 'suspect', text: `${x[1]} suspected`, shared: true };
    return null;
  }
  if (source === 'agent') {
    if (/^Gracefully shutting down agent|^Graceful leave triggered/.test(text)) return { kind: 'leave', text: 'leaving gracefully', shared: false };
    if (/^shutdown complete/.test(text)) return { kind: 'shutdown', text: 'agent stopped', shared: false };
    return null;
  }
  return null;
}

/** A bounded, de-duplicated list of timeline events fed by log lines and UI actions. */
export class Timeline {
  private list: TimelineEvent[] = [];
  private seq = 0;
  constructor(
    private readonly max = 200,
    /** Same fact from several nodes within this window becomes one event. */
    private readonly mergeWindowMs = 3000,
  ) {}

  addLog(rec: LogRecord, nameOf: (addr: string) => string): void {
    const p = parseLogLine(rec.line, rec.term, nameOf);
    if (!p) return;
    // The "no peers" warning repeats every election timeout; one per node per window is enough.
    const window = p.kind === 'no-peers' ? 30_000 : this.mergeWindowMs;
    for (let i = this.list.length - 1; i >= 0 && i >= this.list.length - 40; i--) {
      const e = this.list[i]!;
      if (e.atMs !== null && rec.atMs !== null && rec.atMs - e.atMs > window) break;
      if (e.kind !== p.kind || e.text !== p.text) continue;
      if (p.shared) {
        if (!e.seenBy.includes(rec.node)) e.seenBy.push(rec.node);
        return;
      }
      if (e.node === rec.node && p.kind === 'no-peers') return;
    }
    this.push({ atMs: rec.atMs, kind: p.kind, node: rec.node, seenBy: [rec.node], text: p.text });
  }

  /** An event the UI caused (a fault) or noticed itself. */
  note(atMs: number | null, kind: EventKind, node: string, text: string): void {
    this.push({ atMs, kind, node, seenBy: [node], text });
  }

  events(): TimelineEvent[] {
    return this.list.map((e) => ({ ...e, seenBy: e.seenBy.slice() }));
  }

  private push(e: Omit<TimelineEvent, 'seq'>): void {
    this.list.push({ ...e, seq: ++this.seq });
    if (this.list.length > this.max) this.list.splice(0, this.list.length - this.max);
  }
}

/** Worst status of a set of checks (critical > warning > passing). */
export function worstStatus(statuses: HealthStatus[]): HealthStatus {
  if (statuses.includes('critical')) return 'critical';
  if (statuses.includes('warning')) return 'warning';
  return 'passing';
}

/** Instances of every service, with health and whether DNS would answer them. */
export function serviceViews(byService: Map<string, ServiceInstance[]>): ServiceInstanceView[] {
  const out: ServiceInstanceView[] = [];
  const names = [...byService.keys()].sort((a, b) => (a === 'consul' ? 1 : b === 'consul' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const instances = byService.get(name)!;
    const healthy = new Set(filterHealthy(instances, false).healthy);
    for (const inst of instances) {
      out.push({
        service: name,
        node: inst.Node.Node,
        address: inst.Service.Address || inst.Node.Address,
        port: inst.Service.Port,
        tags: inst.Service.Tags ?? [],
        status: worstStatus(inst.Checks.map((c) => c.Status)),
        inDns: healthy.has(inst),
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ simulator observer

interface Watched {
  proc: SimProcess;
  cursor: number;
  ip: string;
}

export interface SimObserverOptions {
  mode?: 'sim' | 'scenario';
  title?: string;
  maxEvents?: number;
}

const GOSSIP_RANK: Record<GossipStatus, number> = { alive: 0, suspect: 1, leaving: 2, left: 3, failed: 4, down: 5, unknown: 6 };

export class SimObserver {
  readonly timeline: Timeline;
  private watched: Watched[] = [];
  /** Every process ever watched: an exited one is dropped from `watched` but never re-read. */
  private readonly seen = new WeakSet<SimProcess>();
  /** Nodes the UI isolated (so healing one node keeps the others cut). */
  private readonly isolatedByUi = new Set<string>();
  status: string | null = null;

  constructor(
    readonly world: SimWorld,
    private readonly agents: () => SimAgent[],
    private readonly opts: SimObserverOptions = {},
  ) {
    this.timeline = new Timeline(opts.maxEvents ?? 200);
    this.poll();
  }

  // ---------------------------------------------------------------- time

  /** Run the world for durationMs of virtual time, collecting log lines as they appear. */
  advance(durationMs: number): void {
    const end = this.world.nowMs() + Math.max(0, durationMs);
    while (this.world.nowMs() < end) {
      this.world.runUntilTrue(() => this.hasNewOutput(), end - this.world.nowMs());
      this.poll();
    }
    this.poll();
  }

  /** Run exactly one scheduler event; returns its trace line (what happened), or null if idle. */
  stepOne(): string | null {
    const ran = this.world.step();
    this.poll();
    if (!ran) return null;
    return this.world.traceTail(1)[0] ?? '';
  }

  /**
   * Run until an election that starts after now has a winner (some server is Leader in a term
   * above every term seen now), or maxMs pass. Returns true when one was found.
   */
  runToNextElection(maxMs: number): boolean {
    const startTerm = this.maxTerm();
    const done = (): boolean => this.maxTerm() > startTerm && this.liveAgents().some((a) => a.raft?.state === 'Leader' && a.raft.term === this.maxTerm());
    const end = this.world.nowMs() + maxMs;
    while (this.world.nowMs() < end) {
      const hit = this.world.runUntilTrue(() => this.hasNewOutput() || done(), end - this.world.nowMs());
      this.poll();
      if (hit && done()) return true;
    }
    return done();
  }

  /** An agent process (not some other program, like a scenario's web service) runs on the host. */
  private agentRunning(ip: string): boolean {
    return this.world.host(ip).processes().some(isAgentProcess);
  }

  private maxTerm(): number {
    let t = 0;
    for (const a of this.liveAgents()) if (a.raft && a.raft.term > t) t = a.raft.term;
    return t;
  }

  private liveAgents(): Agent[] {
    const out: Agent[] = [];
    for (const h of this.currentHandles().values()) {
      if (h.agent && this.agentRunning(h.host)) out.push(h.agent.agent);
    }
    return out;
  }

  // ---------------------------------------------------------------- log collection

  /** Some watched process printed lines not collected yet (cheap; used as a run-until predicate). */
  hasNewOutput(): boolean {
    for (const w of this.watched) if (w.proc.output.length > w.cursor) return true;
    return false;
  }

  /** Pick up new processes and drain every watched process's new output lines. */
  poll(): void {
    const handles = this.currentHandles();
    for (const h of handles.values()) {
      for (const p of [h.process, ...this.world.host(h.host).processes()]) {
        if (this.seen.has(p)) continue;
        this.seen.add(p);
        this.watched.push({ proc: p, cursor: 0, ip: h.host });
      }
    }
    const now = this.world.nowMs();
    const nameOf = this.nameResolver();
    for (const w of this.watched) {
      if (w.proc.output.length <= w.cursor) continue;
      const h = handles.get(w.ip);
      const node = h?.agent?.agent.nodeName ?? this.world.host(w.ip).name;
      const raft = h?.agent?.agent.raft ?? null;
      for (let i = w.cursor; i < w.proc.output.length; i++) {
        this.timeline.addLog({ atMs: now, node, line: w.proc.output[i]!, term: raft ? raft.term : null }, nameOf);
      }
      w.cursor = w.proc.output.length;
    }
    this.watched = this.watched.filter((w) => !(w.proc.exited && w.cursor >= w.proc.output.length));
  }

  /** The latest agent handle per host ip. */
  private currentHandles(): Map<string, SimAgent> {
    const m = new Map<string, SimAgent>();
    for (const h of this.agents()) m.set(h.host, h);
    return m;
  }

  /** 'ip:port' or 'ip' → host name (node name when an agent runs there). */
  nameResolver(): (addr: string) => string {
    const names = new Map<string, string>();
    for (const host of this.world.hosts()) names.set(host.ip, host.name);
    for (const h of this.currentHandles().values()) if (h.agent) names.set(h.host, h.agent.agent.nodeName);
    return (addr: string) => {
      const ip = addr.includes(':') ? addr.slice(0, addr.lastIndexOf(':')) : addr;
      return names.get(ip) ?? addr;
    };
  }

  // ---------------------------------------------------------------- faults (what a user can do to a host)

  private nodeIp(name: string): string {
    for (const h of this.currentHandles().values()) if (h.host === name || h.agent?.agent.nodeName === name) return h.host;
    return this.world.host(name).ip;
  }

  isolate(node: string): string {
    const ip = this.nodeIp(node);
    this.world.net.isolate(ip);
    this.isolatedByUi.add(ip);
    this.timeline.note(this.world.nowMs(), 'fault', node, 'isolated from the network');
    return `${node} isolated`;
  }

  /** Heal a node's cuts. Other nodes the UI isolated stay isolated; scenario partitions go. */
  heal(node: string): string {
    const ip = this.nodeIp(node);
    this.world.net.heal();
    this.isolatedByUi.delete(ip);
    for (const other of [...this.isolatedByUi].sort()) this.world.net.isolate(other);
    this.timeline.note(this.world.nowMs(), 'fault', node, 'network healed');
    return this.isolatedByUi.size > 0 ? `${node} healed (${this.isolatedByUi.size} other node(s) still isolated)` : `network healed`;
  }

  crash(node: string): string {
    const ip = this.nodeIp(node);
    const host = this.world.host(ip);
    if (!host.processes().some(isAgentProcess)) return `${node} is not running`;
    host.crash();
    this.timeline.note(this.world.nowMs(), 'fault', node, 'crashed (kill -9)');
    this.poll();
    return `${node} crashed`;
  }

  restart(node: string): string {
    const ip = this.nodeIp(node);
    const host = this.world.host(ip);
    if (host.processes().some(isAgentProcess)) return `${node} is still running`;
    const p = host.restart();
    if (!p) return `${node}: nothing to restart`;
    const h = this.currentHandles().get(ip);
    if (h) h.process = p;
    this.timeline.note(this.world.nowMs(), 'fault', node, 'restarted');
    this.poll();
    return `${node} restarted`;
  }

  leave(node: string): string {
    const ip = this.nodeIp(node);
    const procs = this.world.host(ip).processes().filter(isAgentProcess);
    if (procs.length === 0) return `${node} is not running`;
    for (const p of procs) p.signal('SIGINT');
    this.timeline.note(this.world.nowMs(), 'fault', node, 'sent SIGINT (graceful leave)');
    return `${node} leaving`;
  }

  // ---------------------------------------------------------------- the model

  model(): ClusterModel {
    const world = this.world;
    const now = world.nowMs();
    const nameOf = this.nameResolver();
    const handles = [...this.currentHandles().values()].sort((a, b) => ipKey(a.host) - ipKey(b.host));
    const running = (h: SimAgent): boolean => h.agent !== null && this.agentRunning(h.host);
    const live = handles.filter(running).map((h) => h.agent!.agent);

    const nodes: NodeView[] = handles.map((h) => {
      const up = running(h);
      const agent = h.agent?.agent ?? null;
      const name = agent?.nodeName ?? world.host(h.host).name;
      const raft = up ? (agent?.raft ?? null) : null;
      const server = agent?.isServer ?? false;
      let role: NodeRole = up ? (server ? 'Unknown' : 'Client') : 'Down';
      if (raft) role = raft.state as NodeRole;
      const stats = raft ? raft.stats(now) : null;
      return {
        name,
        addr: h.host,
        server,
        running: up,
        role,
        term: raft ? raft.term : null,
        commitIndex: raft ? raft.commitIndex : null,
        appliedIndex: raft ? raft.appliedIndex : null,
        lastContact: stats ? stats.last_contact! : null,
        votedFor: raft && raft.vote ? nameOf(raft.vote) : null,
        leader: raft && raft.leader ? nameOf(raft.leader) : null,
        gossip: gossipStatusOf(name, up, agent, live),
        peers: raft ? raft.peers.map(nameOf).sort() : [],
      };
    });

    return {
      mode: this.opts.mode ?? 'sim',
      title: this.opts.title ?? 'simulated cluster',
      seed: world.seed,
      nowMs: now,
      traceHash: world.traceHash(),
      nodes,
      events: this.timeline.events(),
      network: this.networkView(handles.map((h) => h.host), nameOf),
      services: this.services(live),
      connection: null,
      status: this.status,
    };
  }

  private networkView(ips: string[], nameOf: (a: string) => string): NetworkView {
    const net = this.world.net;
    const counts = net.linkCounts();
    const links: LinkView[] = [];
    for (const from of ips) {
      for (const to of ips) {
        if (from === to) continue;
        const count = counts.get(`${from}>${to}`) ?? 0;
        const cut = !net.canReach(from, to);
        if (count > 0 || cut) links.push({ from: nameOf(from), to: nameOf(to), count, cut });
      }
    }
    // Groups of mutual reachability; a partition exists when there is more than one.
    const group = new Map<string, number>();
    const groups: string[][] = [];
    for (const ip of ips) {
      if (group.has(ip)) continue;
      const g = groups.length;
      const members = [ip];
      group.set(ip, g);
      for (const other of ips) {
        if (group.has(other)) continue;
        if (net.canReach(ip, other) && net.canReach(other, ip)) {
          group.set(other, g);
          members.push(other);
        }
      }
      groups.push(members);
    }
    return { links, groups: groups.length > 1 ? groups.map((g) => g.map(nameOf)) : null };
  }

  /** Answer from the leader's catalog when there is one, else the most up-to-date live server. */
  private services(live: Agent[]): ServiceInstanceView[] {
    const servers = live.filter((a) => a.raft && a.fsm);
    const leader = servers.find((a) => a.raft!.state === 'Leader');
    const pick = leader ?? servers.sort((a, b) => b.raft!.appliedIndex - a.raft!.appliedIndex)[0];
    if (!pick?.fsm) return [];
    const fsm = pick.fsm;
    const byService = new Map<string, ServiceInstance[]>();
    for (const name of fsm.services().keys()) byService.set(name, fsm.serviceInstances(name));
    return serviceViews(byService);
  }
}

/** How the other live agents see `name` in the LAN pool: the most common view, worse on ties. */
function gossipStatusOf(name: string, up: boolean, self: Agent | null, live: Agent[]): GossipStatus {
  const votes = new Map<GossipStatus, number>();
  for (const a of live) {
    if (a === self) continue;
    const m = a.lan.members().find((x) => x.name === name);
    if (!m) continue;
    let s: GossipStatus = m.status;
    if (s === 'alive' && a.lan.ml.nodes.get(name)?.state === 'suspect') s = 'suspect';
    votes.set(s, (votes.get(s) ?? 0) + 1);
  }
  if (votes.size === 0) {
    if (!up) return 'down';
    return self ? (self.lan.localMember().status as GossipStatus) : 'unknown';
  }
  let best: GossipStatus = 'unknown';
  let bestN = -1;
  for (const [s, n] of [...votes.entries()].sort((a, b) => GOSSIP_RANK[a[0]] - GOSSIP_RANK[b[0]])) {
    if (n >= bestN) {
      best = s;
      bestN = n;
    }
  }
  return best;
}

function isAgentProcess(p: SimProcess): boolean {
  return p.argv[0] === 'consul' && p.argv[1] === 'agent';
}

function ipKey(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! * 256 + p[1]!) * 256 + p[2]!) * 256 + p[3]!;
}
