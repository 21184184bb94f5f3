// test/raft/mini-net.ts — a tiny synchronous network for driving RaftNodes in unit tests.
//
// Owns: delivering `send` effects between in-memory nodes in FIFO order, a manual clock,
// firing named timers on request, an in-memory disk per node, and recording applies.
// Must never: be used by the fuzzer (that runs on SimWorld); this exists so paper-sentence
// tests can say exactly which message goes where.
import { makeRng } from '../../core/rng.ts';
import { RaftNode, defaultRaftConfig, type RaftConfig, type RaftEffect, type RaftMessage } from '../../core/raft/node.ts';

export const ip = (i: number): string => `10.0.0.${i}:8300`;

export function cfg(id: string, over: Partial<RaftConfig> = {}): RaftConfig {
  return { ...defaultRaftConfig(id), preVote: false, checkQuorum: false, ...over };
}

export function mkNode(id: string, peers: string[], over: Partial<RaftConfig> = {}): RaftNode {
  return new RaftNode(cfg(id, over), { peers, rng: makeRng(id) });
}

export function recv(n: RaftNode, now: number, from: string, msg: RaftMessage): RaftEffect[] {
  return n.step(now, { kind: 'receive', from, port: 8300, via: 'tcp', msg });
}

export function sends(effects: RaftEffect[]): { to: string; msg: RaftMessage }[] {
  return effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, msg: e.msg as RaftMessage }] : []));
}

export function logs(effects: RaftEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'log' ? [`[${e.level}] ${e.source}: ${e.text}`] : []));
}

export class MemDisk {
  files = new Map<string, Uint8Array>();
  read(path: string): Uint8Array | null {
    return this.files.get(path) ?? null;
  }
  list(dir: string): string[] {
    const out: string[] = [];
    for (const p of this.files.keys()) if (p.startsWith(dir + '/')) out.push(p.slice(dir.length + 1));
    return out.sort();
  }
  apply(e: RaftEffect): void {
    if (e.kind === 'persist') {
      if (e.mode === 'replace') this.files.set(e.path, e.data.slice());
      else {
        const old = this.files.get(e.path) ?? new Uint8Array(0);
        const n = new Uint8Array(old.length + e.data.length);
        n.set(old);
        n.set(e.data, old.length);
        this.files.set(e.path, n);
      }
    } else if (e.kind === 'removeFile') this.files.delete(e.path);
  }
}

export class MiniNet {
  nodes = new Map<string, RaftNode>();
  disks = new Map<string, MemDisk>();
  applied = new Map<string, { index: number; data: string }[]>();
  effects = new Map<string, RaftEffect[]>();
  queue: { from: string; to: string; msg: RaftMessage }[] = [];
  /** Return false to drop a message. */
  filter: (from: string, to: string, msg: RaftMessage) => boolean = () => true;
  now = 0;

  constructor(ids: string[], over: Partial<RaftConfig> = {}) {
    for (const id of ids) this.add(mkNode(id, ids, over));
  }

  add(n: RaftNode): void {
    this.nodes.set(n.id, n);
    if (!this.disks.has(n.id)) this.disks.set(n.id, new MemDisk());
    this.applied.set(n.id, this.applied.get(n.id) ?? []);
    this.effects.set(n.id, []);
  }

  node(id: string): RaftNode {
    return this.nodes.get(id)!;
  }

  /** Step a node and route its effects (sends are queued, persists hit its disk). */
  step(id: string, input: Parameters<RaftNode['step']>[1]): RaftEffect[] {
    const n = this.nodes.get(id);
    if (!n) return [];
    const eff = n.step(this.now, input);
    this.effects.get(id)!.push(...eff);
    for (const e of eff) {
      this.disks.get(id)!.apply(e);
      if (e.kind === 'send') this.queue.push({ from: id, to: e.to, msg: e.msg as RaftMessage });
      if (e.kind === 'apply') this.applied.get(id)!.push({ index: e.index, data: new TextDecoder().decode(e.data) });
      if (e.kind === 'takeSnapshot') {
        const upto = this.applied.get(id)!.filter((a) => a.index <= e.index).map((a) => a.data);
        this.step(id, { kind: 'snapshotTaken', index: e.index, term: 0, data: new TextEncoder().encode(JSON.stringify(upto)) });
      }
    }
    return eff;
  }

  fire(id: string, timer: string): RaftEffect[] {
    return this.step(id, { kind: 'timer', name: timer });
  }

  /** Deliver queued messages until quiet (bounded). */
  deliverAll(max = 10_000): void {
    let n = 0;
    while (this.queue.length && n++ < max) {
      const m = this.queue.shift()!;
      if (!this.nodes.has(m.to) || !this.filter(m.from, m.to, m.msg)) continue;
      this.step(m.to, { kind: 'receive', from: m.from, port: 8300, via: 'tcp', msg: m.msg });
    }
  }

  startAll(): void {
    for (const id of [...this.nodes.keys()].sort()) this.step(id, { kind: 'start' });
  }

  /** Make `id` campaign now and deliver everything. */
  elect(id: string): void {
    this.fire(id, 'raft.election');
    this.deliverAll();
  }

  propose(id: string, reqId: number, text: string): RaftEffect[] {
    return this.step(id, { kind: 'propose', reqId, data: new TextEncoder().encode(text) });
  }
}
