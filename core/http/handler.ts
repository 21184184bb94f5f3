// core/http/handler.ts — the HTTP API core: one request in, one HttpOutcome out.
//
// Owns: the route table of Consul's v1 API (path → allowed methods → endpoint), path
// decoding, 404 for unknown paths, 405 for wrong methods, `?pretty`, `?dc=`, and turning
// bad input into plain-text 400s instead of exceptions.
// Must never: do I/O, wait, or keep state between requests; a request that needs the
// servers or the agent comes back as an `rpc` / `agent` outcome for the host to carry out.
import * as agent from './endpoints/agent.ts';
import * as acl from './endpoints/acl.ts';
import { runLocal } from './endpoints/acl-local.ts';
import * as catalog from './endpoints/catalog.ts';
import * as kv from './endpoints/kv.ts';
import * as query from './endpoints/query.ts';
import * as session from './endpoints/session.ts';
import * as snapshot from './endpoints/snapshot.ts';
import * as status from './endpoints/status.ts';
import * as txn from './endpoints/txn.ts';
import { respond, type Call } from './call.ts';
import { BadRequest, Params } from './params.ts';
import { text } from './respond.ts';
import type { ApiContext, HttpOutcome, HttpRequest, HttpResponse } from './types.ts';
import type { Params as QueryParams } from './params.ts';

type Endpoint = (call: Call, arg: string) => HttpOutcome;

interface Route {
  methods: readonly string[];
  fn: Endpoint;
  /** Agent-local routes ignore ?dc= (Consul forwards only server RPCs). */
  local?: boolean;
}

const GET = ['GET'] as const;
const PUT = ['PUT'] as const;
/** Consul ≤0.9 accepted GET on these; old clients still send it. */
const PUT_OR_GET = ['PUT', 'GET'] as const;

/** Exact paths. */
const EXACT: Record<string, Route> = {
  '/v1/agent/self': { methods: GET, fn: agent.agentSelf, local: true },
  '/v1/agent/members': { methods: GET, fn: agent.agentMembers, local: true },
  '/v1/agent/services': { methods: GET, fn: agent.agentServices, local: true },
  '/v1/agent/checks': { methods: GET, fn: agent.agentChecks, local: true },
  '/v1/agent/leave': { methods: PUT, fn: agent.agentLeave, local: true },
  '/v1/agent/maintenance': { methods: PUT, fn: agent.agentMaintenance, local: true },
  '/v1/agent/reload': { methods: PUT, fn: agent.agentReload, local: true },
  '/v1/agent/monitor': { methods: GET, fn: agent.agentMonitor, local: true },
  '/v1/agent/service/register': { methods: PUT, fn: agent.serviceRegister, local: true },
  '/v1/agent/check/register': { methods: PUT, fn: agent.checkRegister, local: true },
  '/v1/catalog/datacenters': { methods: GET, fn: catalog.catalogDatacenters },
  '/v1/catalog/nodes': { methods: GET, fn: catalog.catalogNodes },
  '/v1/catalog/services': { methods: GET, fn: catalog.catalogServices },
  '/v1/catalog/register': { methods: PUT, fn: catalog.catalogRegister },
  '/v1/catalog/deregister': { methods: PUT, fn: catalog.catalogDeregister },
  '/v1/session/create': { methods: PUT, fn: session.sessionCreate },
  '/v1/session/list': { methods: GET, fn: session.sessionList },
  '/v1/txn': { methods: PUT, fn: txn.txn },
  '/v1/snapshot': { methods: ['GET', 'PUT'], fn: snapshot.snapshot },
  '/v1/query': { methods: ['GET', 'POST'], fn: (c) => (c.req.method === 'GET' ? query.queryList(c) : query.queryCreate(c)) },
  '/v1/status/leader': { methods: GET, fn: status.statusLeader },
  '/v1/status/peers': { methods: GET, fn: status.statusPeers },
  '/v1/operator/raft/configuration': { methods: GET, fn: status.raftConfiguration },
  '/v1/operator/raft/peer': { methods: ['DELETE'], fn: status.raftRemovePeer },
  // The KV root: `/v1/kv/?keys`, `/v1/kv/?recurse` and a bare `/v1/kv`.
  '/v1/kv': { methods: ['GET', 'PUT', 'DELETE'], fn: (c) => kvByMethod(c, '') },
  '/v1/acl/bootstrap': { methods: PUT, fn: acl.aclBootstrap },
  '/v1/acl/policy': { methods: PUT, fn: acl.aclPolicyCreate },
  '/v1/acl/policies': { methods: GET, fn: acl.aclPolicyList },
  '/v1/acl/token': { methods: PUT, fn: acl.aclTokenCreate },
  '/v1/acl/tokens': { methods: GET, fn: acl.aclTokenList },
  '/v1/acl/role': { methods: PUT, fn: acl.aclRoleCreate },
  '/v1/acl/roles': { methods: GET, fn: acl.aclRoleList },
};

/** Prefix routes; the rest of the path is the endpoint's argument. Longest prefix wins. */
const PREFIX: Array<[string, Route]> = (
  [
    ['/v1/agent/join/', { methods: PUT_OR_GET, fn: agent.agentJoin, local: true }],
    ['/v1/agent/force-leave/', { methods: PUT_OR_GET, fn: agent.agentForceLeave, local: true }],
    ['/v1/agent/service/deregister/', { methods: PUT_OR_GET, fn: agent.serviceDeregister, local: true }],
    ['/v1/agent/service/maintenance/', { methods: PUT, fn: agent.serviceMaintenance, local: true }],
    ['/v1/agent/check/deregister/', { methods: PUT_OR_GET, fn: agent.checkDeregister, local: true }],
    ['/v1/agent/check/pass/', { methods: PUT_OR_GET, fn: (c, id) => agent.checkMark(c, 'passing', id), local: true }],
    ['/v1/agent/check/warn/', { methods: PUT_OR_GET, fn: (c, id) => agent.checkMark(c, 'warning', id), local: true }],
    ['/v1/agent/check/fail/', { methods: PUT_OR_GET, fn: (c, id) => agent.checkMark(c, 'critical', id), local: true }],
    ['/v1/agent/check/update/', { methods: PUT, fn: agent.checkUpdate, local: true }],
    ['/v1/catalog/node/', { methods: GET, fn: catalog.catalogNode }],
    ['/v1/catalog/service/', { methods: GET, fn: catalog.catalogService }],
    ['/v1/health/node/', { methods: GET, fn: catalog.healthNode }],
    ['/v1/health/checks/', { methods: GET, fn: catalog.healthChecks }],
    ['/v1/health/service/', { methods: GET, fn: catalog.healthService }],
    ['/v1/health/state/', { methods: GET, fn: catalog.healthState }],
    ['/v1/session/destroy/', { methods: PUT, fn: session.sessionDestroy }],
    ['/v1/session/info/', { methods: GET, fn: session.sessionInfo }],
    ['/v1/session/node/', { methods: GET, fn: session.sessionNode }],
    ['/v1/session/renew/', { methods: PUT, fn: session.sessionRenew }],
    ['/v1/kv/', { methods: ['GET', 'PUT', 'DELETE'], fn: kvByMethod }],
    ['/v1/query/', { methods: ['GET', 'PUT', 'DELETE'], fn: query.querySpecific }],
    ['/v1/acl/policy/', { methods: ['GET', 'PUT', 'DELETE'], fn: acl.aclPolicy }],
    ['/v1/acl/token/', { methods: ['GET', 'PUT', 'DELETE'], fn: acl.aclToken }],
    ['/v1/acl/role/', { methods: ['GET', 'PUT', 'DELETE'], fn: acl.aclRole }],
  ] satisfies Array<[string, Route]>
).sort((a, b) => b[0].length - a[0].length);

function kvByMethod(call: Call, key: string): HttpOutcome {
  switch (call.req.method) {
    case 'GET':
      return kv.kvGet(call, key);
    case 'PUT':
      return kv.kvPut(call, key);
    default:
      return kv.kvDelete(call, key);
  }
}

function findRoute(path: string): { route: Route; arg: string } | null {
  const exact = EXACT[path];
  if (exact) return { route: exact, arg: '' };
  for (const [prefix, route] of PREFIX) if (path.startsWith(prefix)) return { route, arg: path.slice(prefix.length) };
  return null;
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequest(`Invalid URL path ${JSON.stringify(raw)}: bad percent-encoding`);
  }
}

/** Wrap a continuation so a failure while rendering becomes a 500, never a crash of the host. */
function guard<T>(then: (r: T) => HttpResponse): (r: T) => HttpResponse {
  return (r) => {
    try {
      return then(r);
    } catch (err) {
      return failure(err);
    }
  };
}

function failure(err: unknown): HttpResponse {
  if (err instanceof BadRequest) return text(err.status, err.message);
  return text(500, `Internal error: ${err instanceof Error ? err.message : String(err)}`);
}

/** The caller's ACL token: `?token=`, else `X-Consul-Token`, else `Authorization: Bearer` (Consul's order). */
export function requestToken(req: HttpRequest, params: QueryParams): string {
  const q = params.get('token');
  if (q) return q;
  const h = req.headers['x-consul-token'];
  if (h) return h.trim();
  const auth = req.headers['authorization'];
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m ? m[1]! : '';
}

/** Guard continuations and stamp the caller's token on server RPCs (only when there is one,
 *  so a cluster without tokens sends the same bytes as before). */
function finish(out: HttpOutcome, token: string): HttpOutcome {
  if (out.kind === 'rpc') return { kind: 'rpc', request: token ? { ...out.request, token } : out.request, then: guard(out.then) };
  if (out.kind === 'agent') return { kind: 'agent', op: out.op, then: guard(out.then) };
  if (out.kind === 'authorize') return { kind: 'authorize', token: out.token, then: (r) => safely(() => finish(out.then(r), token)) };
  return out;
}

function safely(run: () => HttpOutcome): HttpOutcome {
  try {
    return run();
  } catch (err) {
    return respond(failure(err));
  }
}

export function handleHttp(req: HttpRequest, ctx: ApiContext): HttpOutcome {
  try {
    const path = decodePath(req.path);
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return respond(text(200, 'Consul Agent'));
    const found = findRoute(path);
    if (!found) return respond(text(404, `404 page not found: no Consul v1 endpoint at ${path}`));
    const { route, arg } = found;
    if (!route.methods.includes(req.method)) {
      return respond(
        text(405, `method ${req.method} not allowed (use ${route.methods.join(' or ')})`, { Allow: route.methods.join(', ') }),
      );
    }
    const params = new Params(req.query);
    const call: Call = { req, ctx, params, pretty: params.has('pretty') };
    if (!route.local) params.checkDatacenter(ctx.datacenter);
    const token = requestToken(req, params);
    if (route.local && ctx.acl?.enabled) {
      // The servers check what is forwarded to them; what the agent does itself, it checks here.
      return {
        kind: 'authorize',
        token,
        then: (r) =>
          safely(() => (r.ok ? finish(runLocal(path, ctx, r.authz, (c) => route.fn({ ...call, ctx: c }, arg)), token) : respond(text(403, r.error)))),
      };
    }
    return finish(route.fn(call, arg), token);
  } catch (err) {
    return respond(failure(err));
  }
}
