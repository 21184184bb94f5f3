// core/rpc/types.ts — what an agent asks the servers, and what comes back.
//
// Owns: the request/response vocabulary between the HTTP/DNS/CLI-facing layer and the
// servers (Consul's server RPC on port 8300): catalog/KV/session/health reads with a
// consistency mode and blocking parameters, writes (catalog commands applied through
// Raft), and status/operator calls.
// Must never: carry behaviour. Servers execute these (core/rpc/query.ts + the agent);
// clients forward them to a server over 'tcp'.
//
// Blocking happens where the data is (on the server), as in Consul: a read with
// `minIndex > 0` is held until the index it reads exceeds minIndex or `maxWaitMs` passes.

import type { TxnOp } from '../catalog/commands.ts';
import type { AclQuery } from '../acl/queries.ts';

export type Consistency = 'default' | 'consistent' | 'stale';

/** What a catalog or health read keeps (Consul's `?tag=` repeated, `?node-meta=k:v`
 *  repeated, `?filter=`); every part must match. The filter text was checked by the HTTP
 *  layer; the server compiles it again (core/filter). */
export interface Selection {
  tags?: string[];
  nodeMeta?: Array<[string, string]>;
  filter?: string;
}

export type Query =
  | { q: 'kvGet'; key: string }
  | { q: 'kvList'; prefix: string }
  | { q: 'kvKeys'; prefix: string; separator: string }
  | { q: 'catalogDatacenters' }
  | ({ q: 'catalogNodes' } & Selection)
  | ({ q: 'catalogNode'; node: string } & Selection)
  | ({ q: 'catalogServices' } & Selection)
  | ({ q: 'catalogService'; service: string; tag?: string } & Selection)
  | ({ q: 'healthService'; service: string; tag?: string; passingOnly: boolean } & Selection)
  | ({ q: 'healthNode'; node: string } & Selection)
  | ({ q: 'healthChecks'; service: string } & Selection)
  | ({ q: 'healthState'; state: 'any' | 'passing' | 'warning' | 'critical' } & Selection)
  | { q: 'sessionInfo'; id: string }
  | { q: 'sessionList' }
  | { q: 'sessionNode'; node: string }
  /** A read-only /v1/txn, answered from the server's state without Raft. */
  | { q: 'txnRead'; ops: TxnOp[] }
  /** GET /v1/snapshot: the catalog's snapshot bytes and the index they reflect. */
  | { q: 'snapshot' }
  /** GET /v1/query: every prepared query. */
  | { q: 'preparedQueryList' }
  /** GET /v1/query/<id>: [query], or the error 'Query not found'. */
  | { q: 'preparedQueryGet'; id: string }
  /** GET /v1/query/<id or name>/explain and /execute (the query rendered for the name). */
  | { q: 'preparedQueryExplain'; idOrName: string }
  | { q: 'preparedQueryExecute'; idOrName: string }
  | AclQuery;

export interface ReadRequest {
  type: 'read';
  query: Query;
  consistency: Consistency;
  /** 0 = answer now; otherwise block until the query's index > minIndex or maxWaitMs elapses. */
  minIndex: number;
  maxWaitMs: number;
}

export interface WriteRequest {
  type: 'write';
  /** A catalog command (core/catalog/commands.ts), applied through Raft on the leader. */
  command: unknown;
}

/** Every request may carry the caller's ACL token (absent ⇒ the agent's default token). */
export type RpcRequest = RpcRequestBody & { token?: string };

type RpcRequestBody =
  | ReadRequest
  | WriteRequest
  | { type: 'statusLeader' }
  | { type: 'statusPeers' }
  | { type: 'raftConfiguration'; consistency: Consistency }
  | { type: 'raftRemovePeer'; address: string }
  /** PUT /v1/session/renew/<id>: the leader restarts the session's TTL timer (no Raft write);
   *  value: the Session, or null when it does not exist. */
  | { type: 'sessionRenew'; id: string }
  /** A client agent asks the servers what a token carries (core/acl/enforce.ts ResolvedIdentity). */
  | { type: 'aclResolve' };

/** Metadata every read carries (becomes X-Consul-Index / KnownLeader / LastContact). */
export interface QueryMeta {
  index: number;
  knownLeader: boolean;
  lastContactMs: number;
  /** Some results were left out because the caller's token may not read them. */
  filteredByACLs?: boolean;
}

export type RpcResponse =
  | { ok: true; meta: QueryMeta; value: unknown }
  | { ok: false; error: string; meta?: QueryMeta };

/** Consul's error strings that clients pattern-match: keep them byte-exact. */
export const ERR_NO_LEADER = 'No cluster leader';
export const ERR_NO_SERVERS = 'No known Consul servers';
