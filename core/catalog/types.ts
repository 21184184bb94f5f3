// core/catalog/types.ts — the catalog's records, in Consul's field names.
//
// Owns: the shapes of nodes, services, checks, KV entries and sessions as the catalog
// state machine stores them and as the HTTP API and DNS read them.
// Must never: hold behaviour; the state machine lives in core/catalog/fsm.ts.
//
// Field names and casing follow Consul's JSON (CamelCase, Go field order) so the HTTP
// layer can serialise records without renaming.

export type HealthStatus = 'passing' | 'warning' | 'critical';

export interface RaftIndexes {
  CreateIndex: number;
  ModifyIndex: number;
}

export interface CatalogNode extends RaftIndexes {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string>;
  Meta: Record<string, string>;
}

export interface CatalogService extends RaftIndexes {
  /** Owning node name. */
  Node: string;
  ID: string;
  Service: string;
  Tags: string[];
  /** '' ⇒ clients (and DNS) fall back to the node's Address. */
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  EnableTagOverride: boolean;
  Weights: { Passing: number; Warning: number };
}

export interface HealthCheck extends RaftIndexes {
  Node: string;
  CheckID: string;
  Name: string;
  Status: HealthStatus;
  Notes: string;
  Output: string;
  /** '' for node-level checks (serfHealth, _node_maintenance). */
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
}

export interface KVEntry extends RaftIndexes {
  Key: string;
  /** Go's uint64 as canonical decimal text (core/catalog/u64.ts): values pass 2^53. */
  Flags: string;
  /** Raw bytes; the HTTP layer base64-encodes (null when empty). */
  Value: Uint8Array;
  LockIndex: number;
  /** Session holding the lock, '' when unheld. */
  Session: string;
}

export type SessionBehavior = 'release' | 'delete';

export interface Session extends RaftIndexes {
  ID: string;
  Name: string;
  Node: string;
  /** Node-level check IDs on Node that keep the session valid (default ['serfHealth']);
   *  Consul ≥1.7 calls these NodeChecks. */
  Checks: string[];
  /** Service check IDs on Node that keep the session valid (Consul ≥1.7 ServiceChecks). */
  ServiceChecks: string[];
  /** Lock delay in milliseconds (HTTP shows nanoseconds). */
  LockDelayMs: number;
  Behavior: SessionBehavior;
  /** TTL in milliseconds, 0 = none. The servers expire a session after 2×TTL without renewal. */
  TTLMs: number;
}

/** Reserved check IDs that clients key on (fabio, consul-template). */
export const SERF_HEALTH_CHECK_ID = 'serfHealth';
export const SERF_HEALTH_CHECK_NAME = 'Serf Health Status';
export const NODE_MAINTENANCE_CHECK_ID = '_node_maintenance';
export const serviceMaintenanceCheckId = (serviceId: string): string => `_service_maintenance:${serviceId}`;

/** A service instance joined with its node and every check that applies to it
 *  (its own service checks plus the node's node-level checks). This is what
 *  /v1/health/service/:name returns per entry and what DNS filters on. */
export interface ServiceInstance {
  Node: CatalogNode;
  Service: CatalogService;
  Checks: HealthCheck[];
}

/** Read-only view the DNS and HTTP layers answer from. Implemented by the catalog FSM. */
export interface CatalogView {
  /** Highest Raft index applied (≥ 1 for X-Consul-Index purposes once anything applied). */
  lastIndex(): number;
  nodes(): CatalogNode[];
  node(name: string): CatalogNode | undefined;
  /** Every instance of a service (any health), sorted by node name then service ID. */
  serviceInstances(service: string): ServiceInstance[];
  /** Service name → union of tags, sorted by name. */
  services(): Map<string, string[]>;
  nodeServices(node: string): CatalogService[];
  nodeChecks(node: string): HealthCheck[];
  checksInState(state: HealthStatus | 'any'): HealthCheck[];
  /** A prepared query by ID or name, run against the catalog (DNS `<name>.query.<domain>`);
   *  null when none resolves. Optional: views without prepared queries answer nothing. */
  preparedQueryExecute?(idOrName: string): PreparedQueryExecution | null;
}

// ------------------------------------------------------------------ prepared queries
// (behaviour in prepared-query.ts)

export interface QueryTemplate {
  /** '' (not a template) or 'name_prefix_match'. */
  Type: string;
  Regexp: string;
  RemoveEmptyTags: boolean;
}

export interface QueryFailover {
  NearestN: number;
  Datacenters: string[] | null;
}

/** Slices and maps are null when the creator sent none, as Go's JSON shows them. */
export interface ServiceQuery {
  Service: string;
  Failover: QueryFailover;
  OnlyPassing: boolean;
  IgnoreCheckIDs: string[] | null;
  Near: string;
  Tags: string[] | null;
  NodeMeta: Record<string, string> | null;
  ServiceMeta: Record<string, string> | null;
  Connect: boolean;
}

/** What a create or update carries (the ID is the proposer's for a create, the URL's for an update). */
export interface PreparedQueryDef {
  ID: string;
  Name: string;
  Session: string;
  Token: string;
  Template: QueryTemplate;
  Service: ServiceQuery;
  DNS: { TTL: string };
}

export interface PreparedQuery extends PreparedQueryDef, RaftIndexes {}

/** What an execute answers before the agent shuffles, sorts by ?near and cuts to ?limit. */
export interface PreparedQueryExecution {
  /** The query as run (a template rendered for the name asked). */
  Query: PreparedQuery;
  Nodes: ServiceInstance[];
}
