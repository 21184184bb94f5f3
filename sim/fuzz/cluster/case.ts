// sim/fuzz/cluster/case.ts — one cluster fuzz case as plain data: cluster shape, swarm knobs, fault
// schedule and client workload. JSON in, JSON out; this is what shrinks and what replays.
//
// Owns: the ClusterCase shape, host naming/addressing, and validating a case read from a file
// (every problem named with its path in the JSON and how to fix it).
// Must never: run anything or draw randomness; the same case always means the same run.
import type { BugName } from './bugs.ts';

export const CASE_VERSION = 1;

/** Host names: servers s1…s5 at 10.0.0.x, client agents c1…c8 at 10.0.1.x. */
export type NodeRef = string;
/** Targets a fault may also name: the server that leads when the fault fires. */
export const LEADER = 'leader';

export interface SwarmLink {
  latencyMaxMs: number;
  loss: number;
  duplicate: number;
  reorder: number;
}

export type FuzzFault =
  | { atMs: number; kind: 'partition'; groups: NodeRef[][]; forMs: number }
  | { atMs: number; kind: 'oneWay'; from: NodeRef[]; to: NodeRef[]; forMs: number }
  | { atMs: number; kind: 'isolate'; node: NodeRef; forMs: number }
  /** The leader of the moment is cut off from the other servers; clients still reach everyone. */
  | { atMs: number; kind: 'splitLeader'; forMs: number }
  /** kill -9 the host (unsynced disk writes are lost), start the agent again after downMs. */
  | { atMs: number; kind: 'crash'; node: NodeRef; downMs: number }
  /** SIGTERM (stop without leaving), start again after downMs. */
  | { atMs: number; kind: 'restart'; node: NodeRef; downMs: number }
  /** SIGINT (graceful leave), start again (rejoin) downMs after it exited. */
  | { atMs: number; kind: 'leave'; node: NodeRef; downMs: number }
  | { atMs: number; kind: 'stall'; node: NodeRef; forMs: number }
  /** One direction of a link gets slow and/or lossy for a while. */
  | { atMs: number; kind: 'link'; from: NodeRef; to: NodeRef; latencyMaxMs: number; loss: number; forMs: number }
  /** The next server that grants a Raft vote after atMs crashes right after sending it. */
  | { atMs: number; kind: 'crashAfterVote'; downMs: number }
  // Adversaries (adversary.ts): each owns the world while it runs (other faults are skipped
  // and their cuts lifted meanwhile) and steers the cluster into one corner.
  /** The leader of the moment is cut off from the other servers for forMs (clients reach
   *  everyone): a deposed leader's lease runs out while clients keep reading and writing. */
  | { atMs: number; kind: 'depose'; forMs: number }
  /** The Raft paper's Figure 8 (an old-term entry replicated to a majority, then overwritten);
   *  each phase gives up after phaseMs. */
  | { atMs: number; kind: 'figure8'; phaseMs: number }
  /** The leader crashes and starts again; two servers time out at the same moment; every
   *  other server that grants a vote in their term crashes right after and starts again. */
  | { atMs: number; kind: 'splitVote' };

export type FaultKind = FuzzFault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = [
  'partition',
  'oneWay',
  'isolate',
  'splitLeader',
  'crash',
  'restart',
  'leave',
  'stall',
  'link',
  'crashAfterVote',
  'depose',
  'figure8',
  'splitVote',
];

export type ReadMode = 'default' | 'consistent' | 'stale';
export type ClientOp =
  | { k: 'put'; key: string }
  | { k: 'get'; key: string; mode: ReadMode }
  /** Read (in mode) for the ModifyIndex, then PUT ?cas=<index>. */
  | { k: 'cas'; key: string; mode: ReadMode }
  | { k: 'del'; key: string }
  /** Acquire with the client's session; if it was (maybe) acquired, release after holdMs. */
  | { k: 'lock'; key: string; holdMs: number }
  | { k: 'register'; svc: string }
  | { k: 'deregister'; svc: string }
  | { k: 'health'; svc: string; mode: 'default' | 'stale' };

export interface Step {
  /** Think time before this op, after the previous one finished. */
  gapMs: number;
  op: ClientOp;
}

export interface ClusterCase {
  version: number;
  /** Seed of the simulated world (network, disks, agents' randomness). */
  seed: string;
  servers: number;
  clients: number;
  bug?: BugName;
  /** maxAppendEntries: entries per AppendEntries (absent: the default); small values make
   *  a catching-up follower hold an old-term entry before the new leader's own (Figure 8). */
  raft: { via: 'tcp' | 'udp'; preVote: boolean; maxAppendEntries?: number };
  link: SwarmLink;
  /** Informational: the fault kinds this seed's swarm switched on. */
  swarm: FaultKind[];
  /** Faults and workload run in [0, chaosMs) after the cluster formed; then liveness. */
  chaosMs: number;
  faults: FuzzFault[];
  /** One op list per client host; its steps are dealt round-robin to `workers` concurrent
   *  workers on that host (each sequential, with its own session). */
  workload: Step[][];
  workers: number;
  /** A client gives up on a request after this long (its outcome is then unknown). */
  clientTimeoutMs: number;
}

export const MAX_SERVERS = 5;
export const MAX_CLIENTS = 8;
export const serverName = (i: number): string => `s${i + 1}`;
export const clientName = (i: number): string => `c${i + 1}`;
export const serverIp = (i: number): string => `10.0.0.${i + 1}`;
export const clientIp = (i: number): string => `10.0.1.${i + 1}`;

export function nodeNames(c: Pick<ClusterCase, 'servers' | 'clients'>): string[] {
  return [...Array.from({ length: c.servers }, (_, i) => serverName(i)), ...Array.from({ length: c.clients }, (_, i) => clientName(i))];
}

export function ipOf(name: string): string {
  const m = /^([sc])(\d+)$/.exec(name);
  if (!m) throw new Error(`unknown node '${name}' (use s1…s${MAX_SERVERS} or c1…c${MAX_CLIENTS})`);
  const i = Number(m[2]) - 1;
  return m[1] === 's' ? serverIp(i) : clientIp(i);
}

/** Number of faults + client operations: the "size" a shrunk reproducer is reported with. */
export function caseSize(c: ClusterCase): { faults: number; ops: number } {
  return { faults: c.faults.length, ops: c.workload.reduce((n, w) => n + w.length, 0) };
}

// ---------------------------------------------------------------------------- validation

export class CaseError extends Error {}

function fail(path: string, problem: string, fix: string): never {
  throw new CaseError(`${path}: ${problem} (${fix})`);
}

function num(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(path, `expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`, 'fix the value');
  return v;
}

/** Check a case read from JSON; returns it typed, or throws CaseError naming the bad field. */
export function validateCase(raw: unknown, bugNames: readonly string[]): ClusterCase {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('$', 'expected a JSON object', 'a case file is what `muster fuzz cluster` writes');
  const c = raw as Record<string, unknown>;
  if (c.version !== CASE_VERSION) fail('$.version', `expected ${CASE_VERSION}, got ${JSON.stringify(c.version)}`, 'regenerate the file with this version of muster');
  if (typeof c.seed !== 'string' || c.seed === '') fail('$.seed', 'expected a non-empty string', 'the world seed, e.g. "cluster/7"');
  const servers = num(c.servers, '$.servers', 1, MAX_SERVERS);
  const clients = num(c.clients, '$.clients', 0, MAX_CLIENTS);
  if (!Number.isInteger(servers) || !Number.isInteger(clients)) fail('$.servers', 'servers and clients must be integers', 'use whole numbers');
  if (c.bug !== undefined && !bugNames.includes(String(c.bug))) fail('$.bug', `unknown bug ${JSON.stringify(c.bug)}`, `use one of ${bugNames.join(', ')} or leave it out`);
  const raft = c.raft as Record<string, unknown> | undefined;
  if (!raft || (raft.via !== 'tcp' && raft.via !== 'udp') || typeof raft.preVote !== 'boolean') {
    fail('$.raft', `expected {"via": "tcp"|"udp", "preVote": true|false}, got ${JSON.stringify(c.raft)}`, 'fix the Raft knobs');
  }
  if (raft.maxAppendEntries !== undefined && !Number.isInteger(num(raft.maxAppendEntries, '$.raft.maxAppendEntries', 1, 4096))) {
    fail('$.raft.maxAppendEntries', 'expected an integer', 'e.g. 64, or leave it out for the default');
  }
  const link = c.link as Record<string, unknown> | undefined;
  if (!link || typeof link !== 'object') fail('$.link', 'expected an object', 'e.g. {"latencyMaxMs": 5, "loss": 0, "duplicate": 0, "reorder": 0}');
  num(link.latencyMaxMs, '$.link.latencyMaxMs', 1, 60_000);
  for (const k of ['loss', 'duplicate', 'reorder']) num(link[k], `$.link.${k}`, 0, 1);
  num(c.chaosMs, '$.chaosMs', 0, 3_600_000);
  if (!Array.isArray(c.swarm)) fail('$.swarm', 'expected a list of fault kinds', 'e.g. ["crash", "partition"]');
  const names = new Set([...nodeNames({ servers, clients }), LEADER]);
  const node = (v: unknown, path: string, leaderOk: boolean): void => {
    if (typeof v !== 'string' || !names.has(v) || (!leaderOk && v === LEADER)) fail(path, `unknown node ${JSON.stringify(v)}`, `use one of ${[...names].filter((n) => leaderOk || n !== LEADER).join(', ')}`);
  };
  const nodeList = (v: unknown, path: string): void => {
    if (!Array.isArray(v)) fail(path, 'expected a list of node names', 'e.g. ["s1", "c2"]');
    v.forEach((x, i) => node(x, `${path}[${i}]`, false));
  };
  if (!Array.isArray(c.faults)) fail('$.faults', 'expected a list', 'use [] for none');
  c.faults.forEach((f: unknown, i: number) => {
    const p = `$.faults[${i}]`;
    if (typeof f !== 'object' || f === null) fail(p, 'expected an object', 'see sim/fuzz/cluster/case.ts FuzzFault');
    const r = f as Record<string, unknown>;
    num(r.atMs, `${p}.atMs`, 0, 3_600_000);
    switch (r.kind) {
      case 'partition':
        if (!Array.isArray(r.groups)) fail(`${p}.groups`, 'expected a list of groups', 'e.g. [["s1"], ["s2", "s3"]]');
        r.groups.forEach((g: unknown, j: number) => nodeList(g, `${p}.groups[${j}]`));
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'oneWay':
        nodeList(r.from, `${p}.from`);
        nodeList(r.to, `${p}.to`);
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'isolate':
      case 'stall':
        node(r.node, `${p}.node`, true);
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'splitLeader':
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'crash':
      case 'restart':
      case 'leave':
        node(r.node, `${p}.node`, true);
        num(r.downMs, `${p}.downMs`, 0, 3_600_000);
        break;
      case 'link':
        node(r.from, `${p}.from`, false);
        node(r.to, `${p}.to`, false);
        num(r.latencyMaxMs, `${p}.latencyMaxMs`, 1, 60_000);
        num(r.loss, `${p}.loss`, 0, 1);
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'crashAfterVote':
        num(r.downMs, `${p}.downMs`, 0, 3_600_000);
        break;
      case 'splitVote':
        break;
      case 'depose':
        num(r.forMs, `${p}.forMs`, 0, 3_600_000);
        break;
      case 'figure8':
        num(r.phaseMs, `${p}.phaseMs`, 1, 3_600_000);
        break;
      default:
        fail(`${p}.kind`, `unknown fault kind ${JSON.stringify(r.kind)}`, `use one of ${FAULT_KINDS.join(', ')}`);
    }
  });
  const workers = num(c.workers, '$.workers', 1, 16);
  if (!Number.isInteger(workers)) fail('$.workers', 'expected an integer', 'e.g. 1');
  num(c.clientTimeoutMs, '$.clientTimeoutMs', 1, 600_000);
  if (!Array.isArray(c.workload) || c.workload.length !== clients) fail('$.workload', `expected ${clients} op lists (one per client)`, 'one list per client, [] for an idle one');
  c.workload.forEach((w: unknown, ci: number) => {
    if (!Array.isArray(w)) fail(`$.workload[${ci}]`, 'expected a list of steps', 'e.g. [{"gapMs": 10, "op": {"k": "put", "key": "x0"}}]');
    w.forEach((s: unknown, si: number) => {
      const p = `$.workload[${ci}][${si}]`;
      const st = s as Record<string, unknown> | null;
      if (!st || typeof st !== 'object') fail(p, 'expected {"gapMs", "op"}', 'see sim/fuzz/cluster/case.ts Step');
      num(st.gapMs, `${p}.gapMs`, 0, 3_600_000);
      const op = st.op as Record<string, unknown> | null;
      if (!op || typeof op !== 'object') fail(`${p}.op`, 'expected an object', 'see sim/fuzz/cluster/case.ts ClientOp');
      const str = (k: string): void => {
        if (typeof op[k] !== 'string' || op[k] === '') fail(`${p}.op.${k}`, 'expected a non-empty string', 'e.g. "x0"');
      };
      const mode = (modes: string[]): void => {
        if (!modes.includes(String(op.mode))) fail(`${p}.op.mode`, `expected one of ${modes.join(', ')}`, 'pick a read mode');
      };
      switch (op.k) {
        case 'put':
        case 'del':
          str('key');
          break;
        case 'get':
        case 'cas':
          str('key');
          mode(['default', 'consistent', 'stale']);
          break;
        case 'lock':
          str('key');
          num(op.holdMs, `${p}.op.holdMs`, 0, 3_600_000);
          break;
        case 'register':
        case 'deregister':
          str('svc');
          break;
        case 'health':
          str('svc');
          mode(['default', 'stale']);
          break;
        default:
          fail(`${p}.op.k`, `unknown op ${JSON.stringify(op.k)}`, 'use put, get, cas, del, lock, register, deregister or health');
      }
    });
  });
  return raw as ClusterCase;
}
