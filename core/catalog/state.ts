// core/catalog/state.ts — the catalog's tables and the one place records are built.
//
// Owns: the in-memory layout of the replicated catalog (nodes, services, checks, KV with
// tombstones and lock-delays, sessions, prepared queries, table, service and node indexes) and constructors that give every
// record a fixed field order and normalised contents (sorted maps, copied arrays/bytes),
// so equal histories yield byte-equal snapshots.
// Must never: contain apply logic (fsm.ts) or encoding (snapshot.ts).
import type { CatalogNode, CatalogService, HealthCheck, HealthStatus, KVEntry, Session, SessionBehavior } from './types.ts';
import { SortedKeys, compareKeys } from './sortedKeys.ts';
import type { TableName } from './watch.ts';
import type { PreparedQuery } from './prepared-query.ts';

export interface CatalogState {
  /** Highest Raft index applied (also advanced by commands that failed). */
  lastIndex: number;
  tableIndex: Record<TableName, number>;
  nodes: Map<string, CatalogNode>;
  /** node → service ID → service. No empty inner maps (keeps equal states equal). */
  services: Map<string, Map<string, CatalogService>>;
  /** node → check ID → check. No empty inner maps. */
  checks: Map<string, Map<string, HealthCheck>>;
  kvs: Map<string, KVEntry>;
  kvKeys: SortedKeys;
  /** Deleted key → Raft index of the delete, until reaped. */
  tombstones: Map<string, number>;
  tombstoneKeys: SortedKeys;
  sessions: Map<string, Session>;
  /** Key → proposer time (ms) before which it cannot be acquired (session invalidation). */
  lockDelays: Map<string, number>;
  /** Raft index of the last snapshot restore (0 = none). Every blocking index reads at least
   *  this, so watchers wake after a restore even where the restored records are older
   *  (Consul abandons all blocking queries on restore). */
  restoreIndex: number;
  /** Service name → index of the last change to its instances, their checks or nodes
   *  (Consul's "service.<name>" index entries). Kept for deleted names, so their watchers
   *  see the delete. */
  serviceIndex: Map<string, number>;
  /** Node name → index of the last change to the node, its services or its checks. */
  nodeIndex: Map<string, number>;
  /** What a name without an entry reads as: 0, or the lastIndex of a snapshot written
   *  before these indexes existed (every watcher then wakes once, none misses a change). */
  entityIndexBase: number;
  /** Prepared query ID → query (/v1/query). */
  preparedQueries: Map<string, PreparedQuery>;
  /** Index of the last prepared-query write; 0 until the first (snapshots then leave the
   *  queries out, so catalogs that never had one keep their bytes). */
  preparedQueryIndex: number;
}

export function emptyState(): CatalogState {
  return {
    lastIndex: 0,
    tableIndex: { nodes: 0, services: 0, checks: 0, kvs: 0, sessions: 0 },
    nodes: new Map(),
    services: new Map(),
    checks: new Map(),
    kvs: new Map(),
    kvKeys: new SortedKeys(),
    tombstones: new Map(),
    tombstoneKeys: new SortedKeys(),
    sessions: new Map(),
    lockDelays: new Map(),
    restoreIndex: 0,
    serviceIndex: new Map(),
    nodeIndex: new Map(),
    entityIndexBase: 0,
    preparedQueries: new Map(),
    preparedQueryIndex: 0,
  };
}

/** A copy a transaction can change and then drop (roll back) or adopt. Records are never
 *  mutated in place (constructors below build new ones), so copying the maps suffices. */
export function cloneState(s: CatalogState): CatalogState {
  const inner = <V>(m: Map<string, Map<string, V>>) => new Map([...m].map(([k, v]) => [k, new Map(v)]));
  return {
    lastIndex: s.lastIndex,
    tableIndex: { ...s.tableIndex },
    nodes: new Map(s.nodes),
    services: inner(s.services),
    checks: inner(s.checks),
    kvs: new Map(s.kvs),
    kvKeys: s.kvKeys.clone(),
    tombstones: new Map(s.tombstones),
    tombstoneKeys: s.tombstoneKeys.clone(),
    sessions: new Map(s.sessions),
    lockDelays: new Map(s.lockDelays),
    restoreIndex: s.restoreIndex,
    serviceIndex: new Map(s.serviceIndex),
    nodeIndex: new Map(s.nodeIndex),
    entityIndexBase: s.entityIndexBase,
    preparedQueries: new Map(s.preparedQueries),
    preparedQueryIndex: s.preparedQueryIndex,
  };
}

export const byString = compareKeys;

export function sortedMap(m: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!m) return out;
  for (const k of Object.keys(m).sort(byString)) out[k] = m[k]!;
  return out;
}

export interface Indexes {
  CreateIndex: number;
  ModifyIndex: number;
}

export function makeNode(n: Omit<CatalogNode, 'CreateIndex' | 'ModifyIndex' | 'ID' | 'Datacenter' | 'TaggedAddresses' | 'Meta'> & Partial<CatalogNode>, ix: Indexes): CatalogNode {
  return {
    ID: n.ID ?? '',
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter ?? '',
    TaggedAddresses: sortedMap(n.TaggedAddresses),
    Meta: sortedMap(n.Meta),
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
  };
}

export interface ServiceFields {
  Node: string;
  ID: string;
  Service: string;
  Tags?: string[];
  Address?: string;
  Port?: number;
  Meta?: Record<string, string>;
  EnableTagOverride?: boolean;
  Weights?: { Passing: number; Warning: number };
}

export function makeService(s: ServiceFields, ix: Indexes): CatalogService {
  return {
    Node: s.Node,
    ID: s.ID,
    Service: s.Service,
    Tags: [...(s.Tags ?? [])],
    Address: s.Address ?? '',
    Meta: sortedMap(s.Meta),
    Port: s.Port ?? 0,
    Weights: { Passing: s.Weights?.Passing ?? 1, Warning: s.Weights?.Warning ?? 1 },
    EnableTagOverride: s.EnableTagOverride ?? false,
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
  };
}

export interface CheckFields {
  Node: string;
  CheckID: string;
  Name: string;
  Status: HealthStatus;
  Notes?: string;
  Output?: string;
  ServiceID?: string;
  ServiceName?: string;
  ServiceTags?: string[];
  Type?: string;
}

export function makeCheck(c: CheckFields, ix: Indexes): HealthCheck {
  return {
    Node: c.Node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes ?? '',
    Output: c.Output ?? '',
    ServiceID: c.ServiceID ?? '',
    ServiceName: c.ServiceName ?? '',
    ServiceTags: [...(c.ServiceTags ?? [])],
    Type: c.Type ?? '',
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
  };
}

export function makeKV(e: Omit<KVEntry, 'CreateIndex' | 'ModifyIndex'>, ix: Indexes): KVEntry {
  return {
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: e.Flags,
    // Copy: the command's bytes may be a view into a larger decode buffer, or a Buffer.
    Value: new Uint8Array(e.Value),
    Session: e.Session,
  };
}

export function makeSession(
  s: {
    ID: string;
    Name: string;
    Node: string;
    Checks: readonly string[];
    ServiceChecks?: readonly string[];
    LockDelayMs: number;
    Behavior: SessionBehavior;
    TTLMs: number;
  },
  ix: Indexes,
): Session {
  return {
    ID: s.ID,
    Name: s.Name,
    Node: s.Node,
    Checks: [...s.Checks],
    ServiceChecks: [...(s.ServiceChecks ?? [])],
    LockDelayMs: s.LockDelayMs,
    Behavior: s.Behavior,
    TTLMs: s.TTLMs,
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
  };
}

/** Equal apart from the Raft indexes (records are built by the constructors above, so the
 *  field order is fixed and JSON text comparison is exact). */
export function sameContent<T extends Indexes>(a: T, b: T): boolean {
  return JSON.stringify({ ...a, CreateIndex: 0, ModifyIndex: 0 }) === JSON.stringify({ ...b, CreateIndex: 0, ModifyIndex: 0 });
}

/** Inner-map helpers that never leave an empty inner map behind. */
export function innerGet<V>(m: Map<string, Map<string, V>>, a: string, b: string): V | undefined {
  return m.get(a)?.get(b);
}
export function innerSet<V>(m: Map<string, Map<string, V>>, a: string, b: string, v: V): void {
  let inner = m.get(a);
  if (!inner) m.set(a, (inner = new Map()));
  inner.set(b, v);
}
export function innerDelete<V>(m: Map<string, Map<string, V>>, a: string, b: string): boolean {
  const inner = m.get(a);
  if (!inner || !inner.delete(b)) return false;
  if (inner.size === 0) m.delete(a);
  return true;
}
/** Values of an inner map sorted by their key. */
export function innerSorted<V>(m: Map<string, Map<string, V>>, a: string): V[] {
  const inner = m.get(a);
  if (!inner) return [];
  return [...inner.keys()].sort(byString).map((k) => inner.get(k)!);
}
