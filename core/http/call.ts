// core/http/call.ts — one request in flight through the handler, and the three ways an
// endpoint answers: now, after a server RPC (read or write), or after a local agent op.
//
// Owns: the Call record endpoints receive, and the helpers that turn a Query, a catalog
// Command or an AgentOp into an HttpOutcome with Consul's headers and error mapping.
// Must never: route; see handler.ts.
import type { Command } from '../catalog/commands.ts';
import { validateCommand } from '../catalog/validate.ts';
import type { Query, QueryMeta, RpcRequest, RpcResponse } from '../rpc/types.ts';
import { readUtf8 } from '../codec/utf8.ts';
import { BadRequest, type Params } from './params.ts';
import { empty, json, metaHeaders, rpcError, text } from './respond.ts';
import type { AgentOp, ApiContext, HttpOutcome, HttpRequest, HttpResponse } from './types.ts';

export interface Call {
  req: HttpRequest;
  ctx: ApiContext;
  params: Params;
  pretty: boolean;
}

export const respond = (res: HttpResponse): HttpOutcome => ({ kind: 'respond', res });

/** A blocking-capable read: consistency and index/wait from the query string. */
export function read(
  call: Call,
  query: Query,
  render: (value: unknown, meta: QueryMeta) => HttpResponse = (v, meta) => json(200, v, call.pretty, metaHeaders(meta)),
): HttpOutcome {
  const consistency = call.params.consistency();
  const { minIndex, maxWaitMs } = call.params.blocking(call.ctx.rng);
  return {
    kind: 'rpc',
    request: { type: 'read', query, consistency, minIndex, maxWaitMs },
    then: (r) => (r.ok ? render(r.value, r.meta) : rpcError(r.error, r.meta)),
  };
}

/** Any other RPC (status, operator, session renew). */
export function rpc(call: Call, request: RpcRequest, render: (value: unknown, r: RpcResponse & { ok: true }) => HttpResponse): HttpOutcome {
  return { kind: 'rpc', request, then: (r) => (r.ok ? render(r.value, r) : rpcError(r.error, r.meta)) };
}

/**
 * A catalog write through Raft. Stateless problems (missing names, bad TTL) are caught
 * here so the client gets them without a round trip; `clientError` picks their status
 * (Consul answers 400 for request-shape errors, 500 for those its servers raise).
 */
export function write(
  call: Call,
  command: Command,
  render: (value: unknown) => HttpResponse = (v) => json(200, v, call.pretty),
  clientError = 400,
): HttpOutcome {
  const v = validateCommand(command);
  if (!v.ok) return respond(text(clientError, v.error));
  return {
    kind: 'rpc',
    request: { type: 'write', command },
    then: (r) => (r.ok ? render(r.value) : rpcError(r.error, r.meta)),
  };
}

export function agentOp(call: Call, op: AgentOp, render: (value: unknown) => HttpResponse = () => empty(200)): HttpOutcome {
  return {
    kind: 'agent',
    op,
    then: (r) => (r.ok ? render(r.value) : text(r.status ?? 500, r.error)),
  };
}

/** The request body as a JSON value; undefined when the body is empty. */
export function bodyJson(call: Call): unknown {
  const b = call.req.body;
  if (b.length === 0) return undefined;
  const s = readUtf8(b, 0, b.length);
  if (s === null) throw new BadRequest('Request decode failed: body is not valid UTF-8');
  if (s.trim() === '') return undefined;
  try {
    return JSON.parse(s);
  } catch (err) {
    throw new BadRequest(`Request decode failed: ${(err as Error).message}`);
  }
}

/** Body that must be a JSON object (or absent, when `optional`). */
export function bodyObject(call: Call, what: string, optional = false): Record<string, unknown> {
  const v = bodyJson(call);
  if (v === undefined) {
    if (optional) return {};
    throw new BadRequest(`Request decode failed: empty body; send ${what} as a JSON object`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BadRequest(`Request decode failed: ${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** Case- and underscore-insensitive field lookup, as Go's decoder plus snake_case clients need. */
export function field(obj: Record<string, unknown>, ...names: string[]): unknown {
  const want = new Set(names.map((n) => n.toLowerCase().replace(/_/g, '')));
  for (const k of Object.keys(obj)) if (want.has(k.toLowerCase().replace(/_/g, ''))) return obj[k];
  return undefined;
}
