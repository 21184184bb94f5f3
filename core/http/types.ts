// core/http/types.ts — the HTTP API core's vocabulary: request, response, outcome, and the
// agent-local facts and operations a handler may ask of its agent.
//
// Owns: HttpRequest/HttpResponse (transport-neutral), HttpOutcome (answer now, ask the
// servers, or ask the local agent), ApiContext, AgentOp/AgentOpResult, the Member record.
// Must never: hold behaviour or import anything from transports/ or sim/.
//
// The handler is synchronous and pure: anything that needs the servers (catalog, KV,
// sessions, status) comes back as an `rpc` outcome, anything that changes the local agent
// (join, leave, register a service, update a TTL check) as an `agent` outcome. The host
// carries it out and calls `then` with the result to get the HTTP response.
import type { RpcRequest, RpcResponse } from '../rpc/types.ts';
import type { Rng } from '../rng.ts';
import type { HealthCheck, HealthStatus } from '../catalog/types.ts';
import type { CheckDefinition, ServiceDefinition } from '../agent/definitions.ts';
import type { Authorizer } from '../acl/authorizer.ts';

export interface HttpRequest {
  method: string;
  /** Path without the query string, still percent-encoded (e.g. '/v1/kv/a%2Fb'). */
  path: string;
  /** Raw query pairs in order, already percent-decoded; a bare `?recurse` is ['recurse', '']. */
  query: Array<[string, string]>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** "ip:port" of the caller. */
  remoteAddr: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export type HttpOutcome =
  | { kind: 'respond'; res: HttpResponse }
  | { kind: 'rpc'; request: RpcRequest; then: (r: RpcResponse) => HttpResponse }
  | { kind: 'agent'; op: AgentOp; then: (r: AgentOpResult) => HttpResponse }
  /** ACLs are on and an agent-local endpoint needs the caller's authorizer first: the host
   *  resolves `token` (locally on a server, through the servers on a client, '' = the agent's
   *  default token) and carries out the outcome `then` returns. */
  | { kind: 'authorize'; token: string; then: (r: AuthorizeResult) => HttpOutcome };

export type AuthorizeResult = { ok: true; authz: Authorizer } | { ok: false; error: string };

// A gossip pool member as the agent sees it; the HTTP layer renders it as Consul's JSON.
export type { Member, MemberStatus } from '../gossip/types.ts';
import type { Member, MemberStatus } from '../gossip/types.ts';

/** What /v1/agent/self returns, pre-shaped by the agent. */
export interface AgentSelf {
  /** Agent configuration dump; key order is kept in the JSON (Consul's Go field order). */
  Config: Record<string, unknown>;
  Member: Member;
  /** `consul info` sections: section → key → value (all strings, as Consul prints them). */
  Stats: Record<string, Record<string, string>>;
}

/** A service registered on this agent (/v1/agent/services entry). */
export interface LocalService {
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  EnableTagOverride: boolean;
  Weights: { Passing: number; Warning: number };
}

/** A check run by this agent (/v1/agent/checks entry): a catalog check without Raft indexes. */
export type LocalCheck = Omit<HealthCheck, 'CreateIndex' | 'ModifyIndex'>;

/** A log line kept by the agent for /v1/agent/monitor, numbered from 1. */
export interface LogLine {
  seq: number;
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERR';
  /** The formatted line as the agent prints it ("    2015/07/03 09:18:25 [INFO] serf: …"). */
  text: string;
}

/** Synchronous facts the handler reads from its agent for one request. */
export interface ApiContext {
  nowMs: number;
  /** Draws session UUIDs and blocking-wait jitter (a per-agent stream: deterministic in sim). */
  rng: Rng;
  datacenter: string;
  nodeName: string;
  self(): AgentSelf;
  membersLan(): Member[];
  /** Empty on clients (they are not in the WAN pool). */
  membersWan(): Member[];
  localServices(): LocalService[];
  localChecks(): LocalCheck[];
  /** Log lines with seq > afterSeq (oldest first, at most what the ring still holds). */
  logsAfter?(afterSeq: number): LogLine[];
  /** ACL enforcement at this agent (absent or disabled ⇒ tokens are accepted and ignored). */
  acl?: { enabled: boolean };
}

export type AgentOp =
  | { op: 'join'; addrs: string[]; wan: boolean }
  | { op: 'leave' }
  | { op: 'forceLeave'; node: string }
  | { op: 'reload' }
  | { op: 'nodeMaintenance'; enable: boolean; reason: string }
  | { op: 'serviceRegister'; def: ServiceDefinition }
  | { op: 'serviceDeregister'; id: string }
  | { op: 'serviceMaintenance'; id: string; enable: boolean; reason: string }
  | { op: 'checkRegister'; def: CheckDefinition }
  | { op: 'checkDeregister'; id: string }
  | { op: 'checkUpdate'; id: string; status: HealthStatus; output: string }
  /** Wait until a log line with seq > afterSeq exists or maxWaitMs passes; value: LogLine[]. */
  | { op: 'monitor'; afterSeq: number; maxWaitMs: number };

/** `status` defaults to 500 when an op fails (Consul's catch-all). `value` for join: number joined. */
export type AgentOpResult = { ok: true; value?: unknown } | { ok: false; status?: number; error: string };

/** Consul JSON Status numbers for members. */
export const MEMBER_STATUS_CODE: Record<MemberStatus, number> = { alive: 1, leaving: 2, left: 3, failed: 4 };
