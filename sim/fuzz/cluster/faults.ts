// sim/fuzz/cluster/faults.ts — carrying out a case's fault schedule on the cluster, and undoing it all
// for the liveness phase.
//
// Owns: partition rules that overlap independently (each fault adds a rule for forMs; the
// network is re-derived from the live rules, so removing one fault never changes another's
// span), link spikes, crash/restart/leave with a later start, stalls, "leader" targets resolved
// when the fault fires, the crash-after-vote trigger (armed here, fired by the observer), and
// the adversaries (adversary.ts): starting one, carrying out its moves, and while it owns the
// world skipping every other fault and lifting their cuts and link spikes.
// Must never: decide pass/fail; faults that cannot apply (target down, no leader) are skipped
// and noted in the trace.
import type { FuzzCluster, Slot } from './cluster.ts';
import { LEADER, ipOf, type FaultKind, type FuzzFault, type SwarmLink } from './case.ts';
import { AGENT_ELECTION_TIMER, DeposeAdversary, Figure8Adversary, SplitVoteAdversary, type Adversary, type AdversaryWorld } from './adversary.ts';

const ADVERSARIES: readonly FaultKind[] = ['depose', 'figure8', 'splitVote'];

type Rule = { kind: 'groups'; groups: string[][] } | { kind: 'oneWay'; from: string[]; to: string[] } | { kind: 'isolate'; ip: string };

export interface FaultStats {
  fired: number;
  skipped: number;
}

export class FaultRunner implements AdversaryWorld {
  private rules = new Map<number, Rule>();
  /** The adversary that owns the world (other faults skipped, their cuts and spikes lifted). */
  private owner: Adversary | null = null;
  private ownCuts: string[][][] = [];
  private readonly stalledUntil = new Map<string, number>();
  /** What each adversary got to, in firing order (tests and reports). */
  readonly adversaryOutcomes: Adversary[] = [];
  /** Set by the run: let the Raft checker record commits before an adversary kills a server. */
  onSample: ((nowMs: number) => void) | null = null;
  private links = new Map<number, { from: string; to: string; latencyMaxMs: number; loss: number }>();
  private nextRule = 1;
  private timers: number[] = [];
  /** Pending crash-after-vote triggers (down times), consumed by the observer. */
  readonly armedVoteCrash: number[] = [];
  readonly stats: FaultStats = { fired: 0, skipped: 0 };
  private stopped = false;

  constructor(
    readonly c: FuzzCluster,
    private readonly base: SwarmLink,
  ) {}

  schedule(faults: FuzzFault[], t0: number): void {
    for (const f of faults) this.at(t0 + f.atMs, `fault ${f.kind}`, () => this.fire(f));
  }

  private at(atMs: number, label: string, fn: () => void): void {
    this.timers.push(this.c.world.schedule(atMs, label, () => !this.stopped && fn()));
  }

  note(text: string): void {
    this.c.world.traceLine(`fuzz ${text}`);
  }

  // ---------------------------------------------------------------- what adversaries may do

  later(atMs: number, label: string, fn: () => void): void {
    this.at(atMs, label, fn);
  }

  setCuts(cuts: string[][][]): void {
    this.ownCuts = cuts;
    this.applyRules();
  }

  crash(s: Slot): void {
    if (!this.c.isUp(s)) return;
    this.c.world.host(s.ip).crash();
    this.note(`crash ${s.name} (adversary)`);
  }

  start(s: Slot): void {
    if (!this.c.isUp(s)) this.c.world.host(s.ip).restart();
  }

  fireElectionTimer(s: Slot): void {
    const w = this.c.world;
    this.at(w.nowMs(), `fault election timeout ${s.name}`, () => {
      const ap = s.handle.agent;
      // A stalled host's timers wait for the stall to end; so does this one.
      if (!this.c.isUp(s) || !ap || (this.stalledUntil.get(s.ip) ?? 0) > w.nowMs()) return;
      ap.host.deliver({ kind: 'timer', name: AGENT_ELECTION_TIMER });
    });
  }

  sampleCommits(nowMs: number): void {
    this.onSample?.(nowMs);
  }

  release(): void {
    this.owner = null;
    this.ownCuts = [];
    this.applyRules();
    this.applyAllLinks();
  }

  /** After every simulated event (the Raft observer calls it). */
  afterEvent(nowMs: number): void {
    this.owner?.afterEvent(nowMs);
  }

  /** A server's durable vote changed to `candidate` in `term` (seen right after the event). */
  onVote(s: Slot, term: number, candidate: string): void {
    if (this.owner) {
      this.owner.onVote(s, term, candidate);
      return;
    }
    if (this.armedVoteCrash.length > 0) this.crashFor(s, this.armedVoteCrash.shift()!);
  }

  private target(ref: string): Slot | null {
    if (ref === LEADER) return this.c.leader();
    return this.c.slot(ref);
  }

  private applyRules(): void {
    const net = this.c.world.net;
    net.heal();
    if (this.owner) {
      for (const groups of this.ownCuts) net.partition(groups);
      return;
    }
    for (const id of [...this.rules.keys()].sort((a, b) => a - b)) {
      const r = this.rules.get(id)!;
      if (r.kind === 'groups') net.partition(r.groups);
      else if (r.kind === 'oneWay') net.partitionOneWay(r.from, r.to);
      else net.isolate(r.ip);
    }
  }

  private addRule(rule: Rule, forMs: number): void {
    const id = this.nextRule++;
    this.rules.set(id, rule);
    this.applyRules();
    this.at(this.c.world.nowMs() + forMs, 'fault end', () => {
      this.rules.delete(id);
      this.applyRules();
    });
  }

  private baseLink(): { latencyMs: { min: number; max: number }; loss: number; duplicate: number; reorder: number } {
    const b = this.base;
    return { latencyMs: { min: 1, max: b.latencyMaxMs }, loss: b.loss, duplicate: b.duplicate, reorder: b.reorder };
  }

  private applyLink(from: string, to: string): void {
    // The latest live spike on this direction wins; none left ⇒ back to the base link.
    let cfg = this.baseLink();
    if (!this.owner) for (const id of [...this.links.keys()].sort((a, b) => a - b)) {
      const l = this.links.get(id)!;
      if (l.from === from && l.to === to) cfg = { ...cfg, latencyMs: { min: 1, max: l.latencyMaxMs }, loss: Math.max(cfg.loss, l.loss) };
    }
    this.c.world.net.setLink(from, to, cfg);
  }

  private applyAllLinks(): void {
    const touched = new Set<string>();
    for (const l of this.links.values()) touched.add(`${l.from}>${l.to}`);
    for (const k of [...touched].sort()) {
      const [from, to] = k.split('>') as [string, string];
      this.applyLink(from, to);
    }
  }

  private skip(f: FuzzFault, why: string): void {
    this.stats.skipped++;
    this.note(`skip ${f.kind}: ${why}`);
  }

  private fire(f: FuzzFault): void {
    const w = this.c.world;
    this.stats.fired++;
    if (this.owner) return this.skip(f, 'an adversary owns the world');
    if (ADVERSARIES.includes(f.kind)) {
      const a = f.kind === 'depose' ? new DeposeAdversary(this, f.forMs) : f.kind === 'figure8' ? new Figure8Adversary(this, f.phaseMs) : new SplitVoteAdversary(this);
      this.owner = a;
      this.adversaryOutcomes.push(a);
      // Other faults' cuts and link spikes are lifted while it acts.
      this.applyRules();
      this.applyAllLinks();
      a.fire();
      return;
    }
    switch (f.kind) {
      case 'partition': {
        const groups = f.groups.map((g) => g.map(ipOf)).filter((g) => g.length > 0);
        if (groups.length > 1) this.addRule({ kind: 'groups', groups }, f.forMs);
        return;
      }
      case 'oneWay':
        this.addRule({ kind: 'oneWay', from: f.from.map(ipOf), to: f.to.map(ipOf) }, f.forMs);
        return;
      case 'isolate': {
        const s = this.target(f.node);
        if (!s) return this.skip(f, 'no leader');
        this.addRule({ kind: 'isolate', ip: s.ip }, f.forMs);
        return;
      }
      case 'splitLeader': {
        const l = this.c.leader();
        if (!l) return this.skip(f, 'no leader');
        const others = this.c.servers.filter((s) => s !== l).map((s) => s.ip);
        this.addRule({ kind: 'groups', groups: [[l.ip], others] }, f.forMs);
        return;
      }
      case 'link': {
        if (f.from === f.to) return this.skip(f, 'same node');
        const from = ipOf(f.from);
        const to = ipOf(f.to);
        const id = this.nextRule++;
        this.links.set(id, { from, to, latencyMaxMs: f.latencyMaxMs, loss: f.loss });
        this.applyLink(from, to);
        this.at(w.nowMs() + f.forMs, 'fault link end', () => {
          this.links.delete(id);
          this.applyLink(from, to);
        });
        return;
      }
      case 'stall': {
        const s = this.target(f.node);
        if (!s) return this.skip(f, 'no leader');
        w.host(s.ip).stall(f.forMs);
        this.stalledUntil.set(s.ip, Math.max(this.stalledUntil.get(s.ip) ?? 0, w.nowMs() + f.forMs));
        return;
      }
      case 'crash': {
        const s = this.target(f.node);
        if (!s || !this.c.isUp(s)) return this.skip(f, 'target down');
        this.crashFor(s, f.downMs);
        return;
      }
      case 'restart':
      case 'leave': {
        const s = this.target(f.node);
        if (!s || !this.c.isUp(s)) return this.skip(f, 'target down');
        if (f.kind === 'leave' && s.server && !this.fullPeerSet()) return this.skip(f, 'servers not all in the peer set');
        const proc = this.c.proc(s)!;
        proc.signal(f.kind === 'leave' ? 'SIGINT' : 'SIGTERM');
        this.onLeave?.(s, f.kind === 'leave');
        // Start again downMs after the process is gone (a graceful leave takes a while).
        const waitExit = (): void => {
          if (this.c.isUp(s) && w.host(s.ip).processes()[0] === proc) this.at(w.nowMs() + 100, 'fault wait-exit', waitExit);
          else this.at(w.nowMs() + f.downMs, `fault start ${s.name}`, () => this.startIfDown(s));
        };
        waitExit();
        return;
      }
      case 'crashAfterVote':
        this.armedVoteCrash.push(f.downMs);
        return;
      case 'depose':
      case 'figure8':
      case 'splitVote':
        return; // adversaries: above
    }
  }

  /** Graceful server leaves shrink the Raft peer set, and a rejoining server is only added
   *  back by a leader; like Consul's own guidance (and its 0.5 behaviour of a lone server not
   *  electing itself), let one server be out by leave at a time so an elected core remains. */
  private fullPeerSet(): boolean {
    const l = this.c.leader();
    const peers = l ? this.c.raftOf(l)!.peers : [];
    return !!l && this.c.servers.every((s) => this.c.isUp(s) && peers.includes(`${s.ip}:8300`));
  }

  /** Hook: a client's agent is being stopped (leave: its sessions get destroyed). */
  onLeave: ((s: Slot, graceful: boolean) => void) | null = null;

  crashFor(s: Slot, downMs: number): void {
    this.c.world.host(s.ip).crash();
    this.note(`crash ${s.name} for ${downMs} ms`);
    this.at(this.c.world.nowMs() + downMs, `fault start ${s.name}`, () => this.startIfDown(s));
  }

  private startIfDown(s: Slot): void {
    if (this.owner?.keepsDown(s)) return;
    if (!this.c.isUp(s)) this.c.world.host(s.ip).restart();
  }

  /** Liveness phase: no more faults; partitions and link spikes lifted. Down agents are started
   *  by the caller (they may still be leaving). */
  stop(): void {
    this.stopped = true;
    this.owner?.stop();
    this.owner = null;
    this.ownCuts = [];
    for (const id of this.timers) this.c.world.cancel(id);
    this.timers = [];
    this.armedVoteCrash.length = 0;
    this.rules.clear();
    this.applyRules();
    const touched = new Set<string>();
    for (const l of this.links.values()) touched.add(`${l.from}>${l.to}`);
    this.links.clear();
    for (const k of touched) {
      const [from, to] = k.split('>') as [string, string];
      this.applyLink(from, to);
    }
  }
}
