// sim/fuzz/cluster/cluster.ts — the simulated Muster cluster a fuzz case runs on: a world, N server and
// K client agents (the real agent code, via sim/cluster/agents.ts), and read-only views of them.
//
// Owns: host layout and agent flags (servers retry-join each other, everyone rejoins after a
// leave), the base link, and small queries the checkers and the fault runner need (who leads,
// which agents run).
// Must never: change an agent's state except through its process (signals, crash, restart).
import { SimWorld, type SimProcess } from '../../world.ts';
import { spawnAgent, type SimAgent } from '../../cluster/agents.ts';
import type { RaftNode } from '../../../core/raft/node.ts';
import type { Agent } from '../../../core/agent/agent.ts';
import { clientIp, clientName, serverIp, serverName, type ClusterCase } from './case.ts';
import type { BugSetup } from './bugs.ts';

export interface Slot {
  name: string;
  ip: string;
  server: boolean;
  handle: SimAgent;
}

export const DATA_DIR = '/var/muster';

export class FuzzCluster {
  readonly world: SimWorld;
  readonly slots: Slot[] = [];
  readonly servers: Slot[] = [];
  readonly clients: Slot[] = [];
  private readonly byName = new Map<string, Slot>();

  constructor(
    readonly kase: ClusterCase,
    bugs: BugSetup,
  ) {
    const l = kase.link;
    this.world = new SimWorld({
      seed: kase.seed,
      traceEnabled: false,
      defaultLink: { latencyMs: { min: 1, max: l.latencyMaxMs }, loss: l.loss, duplicate: l.duplicate, reorder: l.reorder },
    });
    const serverIps = Array.from({ length: kase.servers }, (_, i) => serverIp(i));
    const knobs = kase.raft.maxAppendEntries === undefined ? {} : { maxAppendEntries: kase.raft.maxAppendEntries };
    const raftOverrides = { via: kase.raft.via, preVote: kase.raft.preVote, ...knobs, ...(bugs.raft ?? {}) };
    for (let i = 0; i < kase.servers; i++) this.add(serverName(i), serverIp(i), true);
    for (let i = 0; i < kase.clients; i++) this.add(clientName(i), clientIp(i), false);
    for (const s of this.slots) {
      const joins = serverIps.filter((ip) => ip !== s.ip).map((ip) => `-retry-join=${ip}`);
      const args = [
        ...(s.server ? ['-server', '-bootstrap-expect', String(kase.servers)] : []),
        '-data-dir',
        DATA_DIR,
        `-node=${s.name}`,
        `-bind=${s.ip}`,
        '-dc=dc1',
        '-rejoin',
        '-retry-interval=1s',
        ...joins,
      ];
      s.handle = spawnAgent(this.world, s.ip, args, { raftOverrides: s.server ? raftOverrides : undefined, bugs: bugs.agentBugs });
    }
  }

  private add(name: string, ip: string, server: boolean): void {
    this.world.addHost(ip, name);
    const s: Slot = { name, ip, server, handle: undefined as unknown as SimAgent };
    this.slots.push(s);
    (server ? this.servers : this.clients).push(s);
    this.byName.set(name, s);
  }

  slot(name: string): Slot {
    const s = this.byName.get(name);
    if (!s) throw new Error(`no node '${name}' in this cluster`);
    return s;
  }

  /** The agent's current process (a restart makes a new one; `handle.process` is the first). */
  proc(s: Slot): SimProcess | null {
    return this.world.host(s.ip).processes()[0] ?? null;
  }

  /** The agent when its process runs (not crashed, exited or refused to start). */
  agentOf(s: Slot): Agent | null {
    return this.proc(s) && s.handle.agent ? s.handle.agent.agent : null;
  }

  raftOf(s: Slot): RaftNode | null {
    return this.agentOf(s)?.raft ?? null;
  }

  isUp(s: Slot): boolean {
    return this.world.host(s.ip).processes().length > 0;
  }

  /** The running server in Leader state with the highest term (null: none). */
  leader(): Slot | null {
    let best: Slot | null = null;
    let bestTerm = -1;
    for (const s of this.servers) {
      const r = this.raftOf(s);
      if (r && r.state === 'Leader' && r.term > bestTerm) {
        best = s;
        bestTerm = r.term;
      }
    }
    return best;
  }
}
