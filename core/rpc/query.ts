// core/rpc/query.ts — server-side execution of reads (and writes) against the catalog FSM.
//
// Owns: what each Query returns (after its Selection: repeated tags, node-meta, filter) (the value shapes the HTTP layer renders, listed below) and
// which index it blocks on (a service's or node's index, a table's for lists, or the KV
// key/prefix index), plus turning an
// FSM apply into an RpcResponse.
// Must never: block, hold state, or know HTTP; a server (or the test backend) re-runs
// executeQuery after each apply while a blocking read's index is still ≤ minIndex.
//
// Values (all plain data so the wire codec can carry them):
//   kvGet → KVEntry | null          kvList → KVEntry[]          kvKeys → string[]
//   catalogDatacenters → string[]   catalogNodes → CatalogNode[]
//   catalogNode → { Node: CatalogNode; Services: CatalogService[] } | null
//   catalogServices → Record<service, tags[]> (sorted by name)
//   catalogService → Array<{ Node: CatalogNode; Service: CatalogService }>
//   healthService → ServiceInstance[]   healthNode / healthChecks / healthState → HealthCheck[]
//   sessionInfo / sessionList / sessionNode → Session[]
//   txnRead → TxnResponse             snapshot → SnapshotValue
//   preparedQueryList → PreparedQuery[]   preparedQueryGet → PreparedQuery | null
//   preparedQueryExplain → { Query } | { Error }   preparedQueryExecute → PreparedQueryExecution | { Error }
import type { CatalogFSM } from '../catalog/fsm.ts';
import type { Command } from '../catalog/commands.ts';
import type { CatalogNode, CatalogService, HealthCheck, ServiceInstance, Session } from '../catalog/types.ts';
import { READ_TABLES, type CatalogWatch } from '../catalog/watch.ts';
import type { Query, RpcResponse, Selection } from './types.ts';
import { executeAclQuery, isAclQuery, type AclQuery } from '../acl/queries.ts';
import { compileFilter, evaluateFilter, FilterError, type Expr } from '../filter/bexpr.ts';
import { FILTER_SCHEMAS, type FilterKind } from '../filter/fields.ts';
import { catalogServiceJson } from '../http/encode.ts';
import type { PreparedQueryExecution } from '../catalog/prepared-query.ts';

export interface CatalogNodeResult {
  Node: CatalogNode;
  Services: CatalogService[];
}

export interface CatalogServiceRow {
  Node: CatalogNode;
  Service: CatalogService;
}

/** GET /v1/snapshot's value: catalog snapshot bytes (core/catalog/snapshot.ts) at Index. */
export interface SnapshotValue {
  Index: number;
  Data: Uint8Array;
}

/** The index a read blocks on: KV reads per key/prefix, the rest per table. */
export function watchFor(query: Query): CatalogWatch {
  // ACL reads answer at once with the ACL index; they do not park on catalog tables.
  if (isAclQuery(query)) return { kind: 'tables', tables: [] };
  switch (query.q) {
    case 'kvGet':
      return { kind: 'kvKey', key: query.key };
    case 'kvList':
    case 'kvKeys':
      return { kind: 'kvPrefix', prefix: query.prefix };
    case 'catalogNode':
    case 'healthNode':
      return { kind: 'node', node: query.node };
    case 'catalogService':
    case 'healthService':
    case 'healthChecks':
      return { kind: 'service', service: query.service };
    case 'preparedQueryList':
    case 'preparedQueryGet':
    case 'preparedQueryExplain':
    case 'preparedQueryExecute':
      return { kind: 'preparedQueries' };
    default:
      return { kind: 'tables', tables: READ_TABLES[query.q] };
  }
}

function valueOf(fsm: CatalogFSM, query: Exclude<Query, AclQuery>): unknown {
  switch (query.q) {
    case 'kvGet':
      return fsm.kvGet(query.key) ?? null;
    case 'kvList':
      return fsm.kvList(query.prefix);
    case 'kvKeys':
      return fsm.kvKeys(query.prefix, query.separator);
    case 'catalogDatacenters':
      return [...new Set(fsm.nodes().map((n) => n.Datacenter).filter((d) => d !== ''))].sort();
    case 'catalogNodes':
      return fsm.nodes();
    case 'catalogNode': {
      const node = fsm.node(query.node);
      return node ? ({ Node: node, Services: fsm.nodeServices(query.node) } satisfies CatalogNodeResult) : null;
    }
    case 'catalogServices': {
      const out: Record<string, string[]> = {};
      for (const [name, tags] of fsm.services()) out[name] = tags;
      return out;
    }
    case 'catalogService': {
      const tag = query.tag?.toLowerCase();
      return fsm
        .serviceInstances(query.service)
        .filter((i) => tag === undefined || i.Service.Tags.some((t) => t.toLowerCase() === tag))
        .map((i): CatalogServiceRow => ({ Node: i.Node, Service: i.Service }));
    }
    case 'healthService':
      return fsm.healthService(query.service, { tag: query.tag, passingOnly: query.passingOnly });
    case 'healthNode':
      return fsm.nodeHealth(query.node);
    case 'healthChecks':
      return fsm.healthChecks(query.service);
    case 'healthState':
      return fsm.checksInState(query.state);
    case 'sessionInfo': {
      const s = fsm.sessionGet(query.id);
      return s ? [s] : [];
    }
    case 'sessionList':
      return fsm.sessionList();
    case 'sessionNode':
      return fsm.sessionsForNode(query.node);
    case 'txnRead':
      return fsm.readTxn(query.ops);
    case 'snapshot':
      return { Index: fsm.lastIndex(), Data: fsm.snapshot() } satisfies SnapshotValue;
    case 'preparedQueryList':
      return fsm.preparedQueryList();
    case 'preparedQueryGet':
      return fsm.preparedQueryGet(query.id) ?? null;
    case 'preparedQueryExplain': {
      const r = fsm.preparedQueryResolve(query.idOrName);
      return r.ok ? { Query: r.query } : { Error: r.error };
    }
    case 'preparedQueryExecute': {
      const r = fsm.preparedQueryResolve(query.idOrName);
      return r.ok ? fsm.preparedQueryExecute(query.idOrName) : { Error: r.error };
    }
  }
}

/** Answer a read now, with the index a blocking caller compares its minIndex against. */
export function executeQuery(fsm: CatalogFSM, query: Query): { index: number; value: unknown } {
  if (isAclQuery(query)) return executeAclQuery(fsm.acl, query);
  const value = select(fsm, query, valueOf(fsm, query));
  let index = fsm.indexFor(watchFor(query));
  // An execute reads the query and then its service's instances (Consul answers the health
  // read's index).
  if (query.q === 'preparedQueryExecute' && value !== null && 'Query' in (value as object)) {
    index = Math.max(index, fsm.indexFor({ kind: 'service', service: (value as PreparedQueryExecution).Query.Service.Service }));
  }
  return { index, value };
}

const hasTags = (tags: readonly string[], want: readonly string[]): boolean =>
  want.every((w) => tags.some((t) => t.toLowerCase() === w.toLowerCase()));
const hasMeta = (meta: Record<string, string> | undefined, want: ReadonlyArray<[string, string]>): boolean =>
  want.every(([k, v]) => meta?.[k] === v);

/** The compiled filter of a selection, or null for none. A filter the HTTP layer let through
 *  always compiles; one that does not (another build's client) matches nothing. */
function filterOf(sel: Selection, kind: FilterKind): ((record: unknown) => boolean) | null {
  if (sel.filter === undefined || sel.filter === '') return null;
  let expr: Expr;
  try {
    expr = compileFilter(sel.filter, FILTER_SCHEMAS[kind]);
  } catch (e) {
    if (e instanceof FilterError) return () => false;
    throw e;
  }
  return (record) => evaluateFilter(expr, record);
}

const selecting = (sel: Selection): boolean => (sel.tags?.length ?? 0) > 0 || (sel.nodeMeta?.length ?? 0) > 0 || (sel.filter ?? '') !== '';

/** Keeps what `?tag=`, `?node-meta=` and `?filter=` ask for (all of them must match). */
function select(fsm: CatalogFSM, query: Query, value: unknown): unknown {
  if (!('q' in query) || !selecting(query as Selection)) return value;
  const sel = query as Selection;
  const tags = sel.tags ?? [];
  const meta = sel.nodeMeta ?? [];
  switch (query.q) {
    case 'catalogNodes': {
      const f = filterOf(sel, 'node');
      return (value as CatalogNode[]).filter((n) => hasMeta(n.Meta, meta) && (!f || f(n)));
    }
    case 'catalogNode': {
      const r = value as CatalogNodeResult | null;
      const f = filterOf(sel, 'service');
      return r && { ...r, Services: r.Services.filter((s) => !f || f(s)) };
    }
    case 'catalogService': {
      const f = filterOf(sel, 'serviceNode');
      return (value as CatalogServiceRow[]).filter(
        (r) => hasTags(r.Service.Tags, tags) && hasMeta(r.Node.Meta, meta) && (!f || f(catalogServiceJson(r.Node, r.Service))),
      );
    }
    case 'catalogServices': {
      // Rebuilt from the rows that match, as Consul filters the ServiceNodes behind the map.
      const f = filterOf(sel, 'serviceNode');
      const out: Record<string, string[]> = {};
      for (const name of Object.keys(value as Record<string, string[]>)) {
        const rows = fsm.serviceInstances(name).filter((i) => hasMeta(i.Node.Meta, meta) && (!f || f(catalogServiceJson(i.Node, i.Service))));
        if (rows.length === 0) continue;
        out[name] = [...new Set(rows.flatMap((i) => i.Service.Tags))].sort();
      }
      return out;
    }
    case 'healthService': {
      const f = filterOf(sel, 'healthEntry');
      return (value as ServiceInstance[]).filter((i) => hasTags(i.Service.Tags, tags) && hasMeta(i.Node.Meta, meta) && (!f || f(i)));
    }
    case 'healthNode':
    case 'healthChecks':
    case 'healthState': {
      const f = filterOf(sel, 'check');
      return (value as HealthCheck[]).filter((c) => (meta.length === 0 || hasMeta(fsm.node(c.Node)?.Meta, meta)) && (!f || f(c)));
    }
    default:
      return value;
  }
}

/** Apply a committed write and shape the answer (KV writes: true/false; others: true). */
export function executeWrite(fsm: CatalogFSM, index: number, command: Command): RpcResponse {
  const r = fsm.apply(index, command);
  if (!r.ok) return { ok: false, error: r.error, meta: { index, knownLeader: true, lastContactMs: 0 } };
  return { ok: true, meta: { index, knownLeader: true, lastContactMs: 0 }, value: r.value };
}

/** PUT /v1/session/renew/<id> on the leader: the session (to restart its TTL timer) or null. */
export function executeSessionRenew(fsm: CatalogFSM, id: string): Session | null {
  return fsm.sessionGet(id) ?? null;
}

