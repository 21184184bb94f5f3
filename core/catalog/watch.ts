// core/catalog/watch.ts — what a blocking read waits on.
//
// Owns: the names of the catalog's tables, the watch descriptions a blocking query hands
// to CatalogFSM.indexFor, and which tables each catalog/health/session read depends on.
// Must never: hold state; the indexes themselves live in the FSM.
//
// A blocking query records "wake me when indexFor(watch) > X"; the server re-evaluates
// that after every apply. Table granularity matches old Consul (any service change wakes
// every /v1/health/service watcher, #1244); KV is finer: per key and per prefix, with
// delete tombstones so a watcher on a deleted key wakes too.

export type TableName = 'nodes' | 'services' | 'checks' | 'kvs' | 'sessions';

export const TABLE_NAMES: readonly TableName[] = ['nodes', 'services', 'checks', 'kvs', 'sessions'];

export type CatalogWatch =
  | { kind: 'tables'; tables: readonly TableName[] }
  /** GET /v1/kv/<key>: the key's ModifyIndex, its tombstone, else the kvs table index. */
  | { kind: 'kvKey'; key: string }
  /** ?recurse / ?keys: max ModifyIndex and tombstone under prefix, else the kvs table index. */
  | { kind: 'kvPrefix'; prefix: string };

/** Tables each non-KV read depends on, keyed like core/rpc's Query `q` names. */
export const READ_TABLES = {
  catalogDatacenters: [],
  catalogNodes: ['nodes'],
  catalogNode: ['nodes', 'services'],
  catalogServices: ['services'],
  catalogService: ['nodes', 'services'],
  healthService: ['nodes', 'services', 'checks'],
  healthNode: ['nodes', 'checks'],
  healthChecks: ['checks'],
  healthState: ['checks'],
  sessionInfo: ['sessions'],
  sessionList: ['sessions'],
  sessionNode: ['sessions'],
  txnRead: TABLE_NAMES,
  snapshot: TABLE_NAMES,
} as const satisfies Record<string, readonly TableName[]>;
