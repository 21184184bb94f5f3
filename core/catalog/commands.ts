// core/catalog/commands.ts — the catalog commands that travel through Raft.
//
// Owns: the command union the leader proposes and every server applies (CatalogFSM.apply),
// the result shape of an apply, the limits and defaults of Consul's catalog/KV/sessions,
// and the session-ID helper proposers use.
// Must never: hold behaviour beyond building values; commands are plain data (strings,
// numbers, booleans, arrays, plain objects, Uint8Array for KV values) so core/codec can put
// them in Raft log entries.
//
// Everything that varies between replicas is decided by the PROPOSER and carried in the
// command: session IDs (drawn from the proposer's seeded Rng, never inside apply) and the
// proposer's clock reading `nowMs` (lock-delay). Apply therefore stays a pure function of
// (state, index, command).
import type { Rng } from '../rng.ts';
import type { CatalogNode, CatalogService, HealthCheck, HealthStatus, KVEntry } from './types.ts';
import type { PreparedQueryDef } from './prepared-query.ts';

/** One result of a transaction: the record an op read or wrote (KV values blanked for
 *  everything but get, as Consul does). */
export type TxnResult = { KV: KVEntry } | { Node: CatalogNode } | { Service: CatalogService } | { Check: HealthCheck };
export interface TxnError {
  OpIndex: number;
  What: string;
}
/** Consul's TxnResponse: Results null when any op failed (the transaction rolled back). */
export interface TxnResponse {
  Results: TxnResult[] | null;
  Errors: TxnError[] | null;
}

/** Consul's defaults and limits (reference §1.8, §1.9, §4). */
export const DEFAULT_LOCK_DELAY_MS = 15_000;
/** Consul caps lock-delay at 60 s (structs.MaxLockDelay); larger requests are clamped. */
export const MAX_LOCK_DELAY_MS = 60_000;
export const SESSION_TTL_MIN_MS = 10_000;
export const SESSION_TTL_MAX_MS = 24 * 60 * 60 * 1000;
/** Servers expire a TTL session after TTL × this without renewal (leader-local timer). */
export const SESSION_TTL_MULTIPLIER = 2;
export const KV_VALUE_MAX_BYTES = 524_288;
/** Session checks when the creator names none (Consul's default). */
export const DEFAULT_SESSION_CHECKS: readonly string[] = ['serfHealth'];

/** Node part of a registration, in Consul's field names. Omitted optionals take defaults
 *  (a registration replaces the node record, as Consul's does). */
export interface NodeSpec {
  Node: string;
  Address: string;
  ID?: string;
  Datacenter?: string;
  TaggedAddresses?: Record<string, string>;
  Meta?: Record<string, string>;
}

/** Service part of a registration. ID defaults to Service. */
export interface ServiceSpec {
  ID?: string;
  Service: string;
  Tags?: string[];
  Address?: string;
  Port?: number;
  Meta?: Record<string, string>;
  EnableTagOverride?: boolean;
  Weights?: { Passing: number; Warning: number };
}

/** Check part of a registration. CheckID defaults to Name; Status defaults to critical.
 *  ServiceName/ServiceTags are filled by apply from the service the check belongs to. */
export interface CheckSpec {
  CheckID?: string;
  Name: string;
  Status?: HealthStatus;
  Notes?: string;
  Output?: string;
  ServiceID?: string;
  Type?: string;
}

interface CommandBase {
  /** The proposer's clock when it proposed the command (ms). Apply never reads a clock. */
  nowMs: number;
}

/** /v1/catalog/register: upsert node, then service, then checks (all or nothing). */
export interface RegisterCommand extends CommandBase {
  op: 'register';
  node: NodeSpec;
  service?: ServiceSpec;
  checks?: CheckSpec[];
}

/** /v1/catalog/deregister: serviceId wins over checkId; neither ⇒ the whole node
 *  (its services, checks, and sessions, which are invalidated). */
export interface DeregisterCommand extends CommandBase {
  op: 'deregister';
  node: string;
  serviceId?: string;
  checkId?: string;
}

/** Status change of an existing check (serfHealth from gossip, TTL checks, probes). */
export interface UpdateCheckStatusCommand extends CommandBase {
  op: 'updateCheckStatus';
  node: string;
  checkId: string;
  status: HealthStatus;
  /** Omitted ⇒ output unchanged. */
  output?: string;
}

/** Plain PUT: always true; keeps an existing lock (Session, LockIndex). */
export interface KvSetCommand extends CommandBase {
  op: 'kvSet';
  key: string;
  value: Uint8Array;
  /** uint64: decimal text, or a safe integer (older log entries); see u64.ts. */
  flags?: number | string;
}

/** PUT ?cas=: casIndex 0 ⇒ create only; otherwise the key's ModifyIndex must equal it. */
export interface KvCasCommand extends CommandBase {
  op: 'kvCas';
  key: string;
  value: Uint8Array;
  /** uint64: decimal text, or a safe integer (older log entries); see u64.ts. */
  flags?: number | string;
  casIndex: number;
}

/** DELETE: casIndex ⇒ delete only if ModifyIndex matches (a missing key counts as done);
 *  recurse (without casIndex) ⇒ same as kvDeleteTree with prefix = key. */
export interface KvDeleteCommand extends CommandBase {
  op: 'kvDelete';
  key: string;
  recurse?: boolean;
  casIndex?: number;
}

/** DELETE ?recurse: every key starting with prefix ('' = everything). */
export interface KvDeleteTreeCommand extends CommandBase {
  op: 'kvDeleteTree';
  prefix: string;
}

/** PUT ?acquire=<session>. */
export interface KvLockCommand extends CommandBase {
  op: 'kvLock';
  key: string;
  value: Uint8Array;
  /** uint64: decimal text, or a safe integer (older log entries); see u64.ts. */
  flags?: number | string;
  session: string;
}

/** PUT ?release=<session>. */
export interface KvUnlockCommand extends CommandBase {
  op: 'kvUnlock';
  key: string;
  value: Uint8Array;
  /** uint64: decimal text, or a safe integer (older log entries); see u64.ts. */
  flags?: number | string;
  session: string;
}

/** Forget delete-tombstones at or below upToIndex (Consul's tombstone GC, leader-driven). */
export interface KvReapTombstonesCommand extends CommandBase {
  op: 'kvReapTombstones';
  upToIndex: number;
}

/** PUT /v1/session/create. `id` comes from the proposer (see newSessionId). */
export interface SessionCreateCommand extends CommandBase {
  op: 'sessionCreate';
  id: string;
  node: string;
  name?: string;
  /** Node checks. Omitted ⇒ ['serfHealth']; [] ⇒ none. */
  checks?: string[];
  /** Service checks on the same node (Consul ≥1.7 ServiceChecks). Omitted ⇒ none. */
  serviceChecks?: string[];
  /** Omitted ⇒ 15 s; clamped to 60 s. */
  lockDelayMs?: number;
  /** Omitted ⇒ 'release'. A string so a bad value from the API gets Consul's error. */
  behavior?: string;
  /** 0 / omitted ⇒ no TTL; else 10 s..24 h. */
  ttlMs?: number;
}

/** PUT /v1/session/destroy/<id>: a missing session is not an error. */
export interface SessionDestroyCommand extends CommandBase {
  op: 'sessionDestroy';
  id: string;
}

/** The leader's TTL timer ran out (2×TTL without renewal). Same effect as destroy. */
export interface SessionInvalidateCommand extends CommandBase {
  op: 'sessionInvalidate';
  id: string;
  reason: 'ttl';
}

/** One operation of a /v1/txn transaction, in Consul's JSON layout (Verb + payload).
 *  Verbs are checked at apply time: an unknown one is a per-op error, as in Consul. */
export interface TxnKvOp {
  KV: { Verb: string; Key: string; Value?: Uint8Array; Flags?: number | string; Index?: number; Session?: string };
}
export interface TxnNodeOp {
  Node: { Verb: string; Node: Partial<NodeSpec> & { Node: string; ModifyIndex?: number } };
}
export interface TxnServiceOp {
  Service: { Verb: string; Node: string; Service: Partial<ServiceSpec> & { ModifyIndex?: number } };
}
export interface TxnCheckOp {
  Check: { Verb: string; Check: Partial<CheckSpec> & { Node: string; ModifyIndex?: number } };
}
export type TxnOp = TxnKvOp | TxnNodeOp | TxnServiceOp | TxnCheckOp;

/** Consul's maxTxnOps: a transaction holds at most this many operations. */
export const MAX_TXN_OPS = 64;

/** PUT /v1/txn with at least one write: every op applied, or none (one Raft entry). The
 *  apply value is a TxnResponse (core/catalog/txn.ts), errors included. */
export interface TxnCommand extends CommandBase {
  op: 'txn';
  ops: TxnOp[];
}

/** PUT /v1/snapshot: replace the whole catalog with a snapshot's tables (snapshot.ts bytes).
 *  A snapshot that does not decode is refused and nothing changes. */
export interface RestoreCommand extends CommandBase {
  op: 'restore';
  snapshot: Uint8Array;
}

/** POST /v1/query (create: the ID is new, drawn by the proposer) or PUT /v1/query/<id>. */
export interface PreparedQuerySetCommand extends CommandBase {
  op: 'preparedQuerySet';
  create: boolean;
  query: PreparedQueryDef;
}

/** DELETE /v1/query/<id>. */
export interface PreparedQueryDeleteCommand extends CommandBase {
  op: 'preparedQueryDelete';
  id: string;
}

export type Command =
  | TxnCommand
  | PreparedQuerySetCommand
  | PreparedQueryDeleteCommand
  | RestoreCommand
  | RegisterCommand
  | DeregisterCommand
  | UpdateCheckStatusCommand
  | KvSetCommand
  | KvCasCommand
  | KvDeleteCommand
  | KvDeleteTreeCommand
  | KvLockCommand
  | KvUnlockCommand
  | KvReapTombstonesCommand
  | SessionCreateCommand
  | SessionDestroyCommand
  | SessionInvalidateCommand;

export type CommandOp = Command['op'];

export const COMMAND_OPS: readonly CommandOp[] = [
  'txn',
  'preparedQuerySet',
  'preparedQueryDelete',
  'restore',
  'register',
  'deregister',
  'updateCheckStatus',
  'kvSet',
  'kvCas',
  'kvDelete',
  'kvDeleteTree',
  'kvLock',
  'kvUnlock',
  'kvReapTombstones',
  'sessionCreate',
  'sessionDestroy',
  'sessionInvalidate',
];

/** Outcome of one apply. `value` is the JSON the HTTP API answers for KV writes
 *  (true/false); other successful commands give true. `error` strings are Consul's,
 *  byte-exact where clients match them. `invalidatedSessions` lists sessions this apply
 *  removed (so the leader can stop their TTL timers and log). */
/** What an ACL write answers (core/acl/state.ts). */
type AclRecord = Record<string, unknown>;

export type ApplyResult =
  | { ok: true; value: boolean | TxnResponse | AclRecord; invalidatedSessions: string[] }
  | { ok: false; error: string };

/** A fresh session (or prepared query) ID in Consul's UUID layout, drawn from the proposer's seeded stream. */
export function newSessionId(rng: Rng): string {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) s += '-';
    s += hex[rng.int(16)];
  }
  return s;
}
