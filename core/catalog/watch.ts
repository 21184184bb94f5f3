// core/catalog/watch.ts — what a blocking read waits on, and who to wake after a write.
//
// Owns: the names of the catalog's tables; the watch descriptions a blocking query hands to
// CatalogFSM.indexFor; the change keys the FSM reports per apply; and WatchRegistry, which
// maps those change keys to the parked reads that may have to wake.
// Must never: hold catalog state or decide a wake-up alone: a candidate wakes only when
// indexFor(watch) really moved past its minIndex (the registry only narrows who is asked).
//
// Granularity follows Consul's memdb watch sets rather than old Consul's table indexes
// (#1244: every /v1/health/service watcher woke on any service change): a service read
// watches that service's index (its instances, their checks, their nodes), a node read that
// node's index, KV reads a key or a prefix (with delete tombstones); lists watch their table.

export type TableName = 'nodes' | 'services' | 'checks' | 'kvs' | 'sessions';

export const TABLE_NAMES: readonly TableName[] = ['nodes', 'services', 'checks', 'kvs', 'sessions'];

export type CatalogWatch =
  | { kind: 'tables'; tables: readonly TableName[] }
  /** One service by name: its instances, their checks and nodes (Consul's "service.<name>" index). */
  | { kind: 'service'; service: string }
  /** One node: its record, services and checks. */
  | { kind: 'node'; node: string }
  /** GET /v1/kv/<key>: the key's ModifyIndex, its tombstone, else the kvs table index. */
  | { kind: 'kvKey'; key: string }
  /** ?recurse / ?keys: max ModifyIndex and tombstone under prefix, else the kvs table index. */
  | { kind: 'kvPrefix'; prefix: string }
  /** /v1/query reads: the index of the last prepared-query write. */
  | { kind: 'preparedQueries' };

/** Tables each list read depends on, keyed like core/rpc's Query `q` names. */
export const READ_TABLES = {
  catalogDatacenters: [],
  catalogNodes: ['nodes'],
  catalogServices: ['services'],
  healthState: ['checks'],
  sessionInfo: ['sessions'],
  sessionList: ['sessions'],
  sessionNode: ['sessions'],
  txnRead: TABLE_NAMES,
  snapshot: TABLE_NAMES,
} as const satisfies Record<string, readonly TableName[]>;

/** Change keys: what one apply touched. A table key for every table written, a service key
 *  per service name whose index moved, a node key per node whose index moved. */
export const tableChange = (t: TableName): string => `t:${t}`;
export const serviceChange = (name: string): string => `s:${name}`;
export const nodeChange = (name: string): string => `n:${name}`;
/** Any prepared query created, updated or deleted (a table of its own, kept out of TABLE_NAMES
 *  so snapshots without queries keep their bytes). */
export const PREPARED_QUERIES_CHANGE = 'q:';
/** A snapshot restore: every index may have moved, so every parked read is a candidate. */
export const EVERY_CHANGE = '*';

/** The change keys that can move this watch's index. KV watches hang off the kvs table:
 *  a missing key's index is the table's, so any KV write may move it. */
function keysOf(watch: CatalogWatch): string[] {
  switch (watch.kind) {
    case 'tables':
      return watch.tables.map(tableChange);
    case 'service':
      return [serviceChange(watch.service)];
    case 'node':
      return [nodeChange(watch.node)];
    case 'kvKey':
    case 'kvPrefix':
      return [tableChange('kvs')];
    case 'preparedQueries':
      return [PREPARED_QUERIES_CHANGE];
  }
}

/**
 * Parked reads by the change keys that concern them. `candidates` returns, in id order
 * (deterministic), the ids whose watch may have moved; the caller checks the index and
 * removes the ones it answers.
 */
export class WatchRegistry {
  private readonly byKey = new Map<string, Set<number>>();
  private readonly keysById = new Map<number, string[]>();

  get size(): number {
    return this.keysById.size;
  }

  add(id: number, watch: CatalogWatch): void {
    this.remove(id);
    const keys = keysOf(watch);
    this.keysById.set(id, keys);
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(id);
    }
  }

  remove(id: number): void {
    const keys = this.keysById.get(id);
    if (!keys) return;
    this.keysById.delete(id);
    for (const k of keys) {
      const set = this.byKey.get(k)!;
      set.delete(id);
      if (set.size === 0) this.byKey.delete(k);
    }
  }

  candidates(changes: Iterable<string>): number[] {
    const out = new Set<number>();
    for (const k of changes) {
      if (k === EVERY_CHANGE) return this.all();
      for (const id of this.byKey.get(k) ?? []) out.add(id);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** Every parked id (after a snapshot restore every index may have moved). */
  all(): number[] {
    return [...this.keysById.keys()].sort((a, b) => a - b);
  }
}
