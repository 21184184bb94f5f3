// core/http/endpoints/query.ts — prepared queries: /v1/query (GET list, POST create) and
// /v1/query/<id> (GET, PUT update, DELETE), /v1/query/<id or name>/execute and /explain.
//
// Owns: decoding a query body the way Go's decoder does (field names in any case, a wrong type
// is "Request decode failed: …" 400), drawing a new query's ID from the agent's Rng, Consul's
// answers (create {"ID"}, update/delete empty 200, get/list arrays, "Query not found" 404), and
// the agent's part of execute: the shuffle, `?near=` (the named node — `_agent` is this one —
// moved to the front, as Consul does after its distance sort; without coordinates the order is
// the shuffle) and `?limit=`.
// Must never: check Consul's query rules itself beyond decoding (the catalog's prepared-query.ts
// gives the texts), or block on execute/explain (Consul does not).
import { newSessionId, type PreparedQuerySetCommand } from '../../catalog/commands.ts';
import { ERR_QUERY_NOT_FOUND, type PreparedQuery, type PreparedQueryDef, type PreparedQueryExecution } from '../../catalog/prepared-query.ts';
import type { ServiceInstance } from '../../catalog/types.ts';
import type { QueryMeta, RpcResponse } from '../../rpc/types.ts';
import { bodyJson, field, read, respond, write, type Call } from '../call.ts';
import { instanceJson } from '../encode.ts';
import { BadRequest } from '../params.ts';
import { empty, json, metaHeaders, rpcError, text } from '../respond.ts';
import type { HttpOutcome, HttpResponse } from '../types.ts';

type Obj = Record<string, unknown>;

const decodeFailed = (what: string) => new BadRequest(`Request decode failed: ${what}`);

/** Go's zero value for null/absent, else the value if it has the wanted type. */
function str(o: Obj, name: string, where: string): string {
  const v = field(o, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw decodeFailed(`${where}${name} must be a string`);
  return v;
}
function bool(o: Obj, name: string, where: string): boolean {
  const v = field(o, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw decodeFailed(`${where}${name} must be true or false`);
  return v;
}
function obj(o: Obj, name: string, where: string): Obj {
  const v = field(o, name);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw decodeFailed(`${where}${name} must be an object`);
  return v as Obj;
}
function strList(o: Obj, name: string, where: string): string[] | null {
  const v = field(o, name);
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw decodeFailed(`${where}${name} must be a list of strings`);
  return v as string[];
}
function strMap(o: Obj, name: string, where: string): Record<string, string> | null {
  const v = field(o, name);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw decodeFailed(`${where}${name} must be an object of string values`);
  }
  return v as Record<string, string>;
}
function int(o: Obj, name: string, where: string): number {
  const v = field(o, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw decodeFailed(`${where}${name} must be a whole number`);
  return v;
}

/** A PreparedQuery body (the ID is the caller's to set); an empty body is the zero query. */
export function decodeQueryBody(call: Call): PreparedQueryDef {
  const raw = bodyJson(call);
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) throw decodeFailed('the prepared query must be a JSON object');
  const body = (raw ?? {}) as Obj;
  const template = obj(body, 'Template', '');
  const service = obj(body, 'Service', '');
  const failover = obj(service, 'Failover', 'Service.');
  const dns = obj(body, 'DNS', '');
  return {
    ID: str(body, 'ID', ''),
    Name: str(body, 'Name', ''),
    Session: str(body, 'Session', ''),
    Token: str(body, 'Token', ''),
    Template: {
      Type: str(template, 'Type', 'Template.'),
      Regexp: str(template, 'Regexp', 'Template.'),
      RemoveEmptyTags: bool(template, 'RemoveEmptyTags', 'Template.'),
    },
    Service: {
      Service: str(service, 'Service', 'Service.'),
      Failover: { NearestN: int(failover, 'NearestN', 'Service.Failover.'), Datacenters: strList(failover, 'Datacenters', 'Service.Failover.') },
      OnlyPassing: bool(service, 'OnlyPassing', 'Service.'),
      IgnoreCheckIDs: strList(service, 'IgnoreCheckIDs', 'Service.'),
      Near: str(service, 'Near', 'Service.'),
      Tags: strList(service, 'Tags', 'Service.'),
      NodeMeta: strMap(service, 'NodeMeta', 'Service.'),
      ServiceMeta: strMap(service, 'ServiceMeta', 'Service.'),
      Connect: bool(service, 'Connect', 'Service.'),
    },
    DNS: { TTL: str(dns, 'TTL', 'DNS.') },
  };
}

/** Consul answers a query's RPC errors as 500s ("Invalid prepared query: …"). */
const SERVER_ERROR = 500;

export function queryCreate(call: Call): HttpOutcome {
  const def = decodeQueryBody(call);
  if (def.ID !== '') return respond(text(SERVER_ERROR, 'ID must be empty when creating a new prepared query'));
  const id = newSessionId(call.ctx.rng);
  const cmd: PreparedQuerySetCommand = { op: 'preparedQuerySet', nowMs: call.ctx.nowMs, create: true, query: { ...def, ID: id } };
  return write(call, cmd, () => json(200, { ID: id }, call.pretty), SERVER_ERROR);
}

export function queryList(call: Call): HttpOutcome {
  return read(call, { q: 'preparedQueryList' }, (v, meta) => json(200, v as PreparedQuery[], call.pretty, metaHeaders(meta)));
}

/** /v1/query/<rest>: <id>, <id or name>/execute, <id or name>/explain. */
export function querySpecific(call: Call, rest: string): HttpOutcome {
  for (const [suffix, fn] of [
    ['/execute', queryExecute],
    ['/explain', queryExplain],
  ] as const) {
    if (!rest.endsWith(suffix)) continue;
    if (call.req.method !== 'GET') {
      return respond(text(405, `method ${call.req.method} not allowed (use GET)`, { Allow: 'GET' }));
    }
    return fn(call, rest.slice(0, -suffix.length));
  }
  switch (call.req.method) {
    case 'GET':
      return read(call, { q: 'preparedQueryGet', id: rest }, (v, meta) =>
        v === null ? text(404, ERR_QUERY_NOT_FOUND, metaHeaders(meta)) : json(200, [v], call.pretty, metaHeaders(meta)),
      );
    case 'PUT': {
      if (rest === '') throw new BadRequest('Missing query ID: use /v1/query/<id>');
      const def = decodeQueryBody(call);
      // Consul takes the ID from the URL, not the body.
      const cmd: PreparedQuerySetCommand = { op: 'preparedQuerySet', nowMs: call.ctx.nowMs, create: false, query: { ...def, ID: rest } };
      return write(call, cmd, () => empty(200), SERVER_ERROR);
    }
    default:
      if (rest === '') throw new BadRequest('Missing query ID: use /v1/query/<id>');
      return write(call, { op: 'preparedQueryDelete', nowMs: call.ctx.nowMs, id: rest }, () => empty(200), SERVER_ERROR);
  }
}

/** Execute and explain answer at once (no ?index= blocking), with Consul's query meta in the
 *  body as well as the headers (its response structs embed QueryMeta). */
function nonBlockingRead(call: Call, query: { q: 'preparedQueryExplain' | 'preparedQueryExecute'; idOrName: string }, render: (v: unknown, meta: QueryMeta) => HttpResponse): HttpOutcome {
  const consistency = call.params.consistency();
  return {
    kind: 'rpc',
    request: { type: 'read', query, consistency, minIndex: 0, maxWaitMs: 0 },
    then: (r: RpcResponse) => {
      if (!r.ok) return rpcError(r.error, r.meta);
      const v = r.value as { Error?: string } | null;
      if (v === null || v.Error === ERR_QUERY_NOT_FOUND) return text(404, ERR_QUERY_NOT_FOUND, metaHeaders(r.meta));
      if (v.Error !== undefined) return text(SERVER_ERROR, v.Error, metaHeaders(r.meta));
      return render(v, r.meta);
    },
  };
}

function bodyMeta(meta: QueryMeta, consistency: string): Obj {
  return {
    Index: Math.max(1, meta.index),
    LastContact: Math.max(0, Math.floor(meta.lastContactMs)) * 1_000_000,
    KnownLeader: meta.knownLeader,
    ConsistencyLevel: consistency,
  };
}

const consistencyLevel = (call: Call): string => {
  const c = call.params.consistency();
  return c === 'default' ? 'leader' : c;
};

function parseLimit(call: Call): number {
  const raw = call.params.get('limit');
  if (raw === undefined || raw === '') return 0;
  if (!/^[+-]?\d+$/.test(raw)) throw new BadRequest(`Bad limit: strconv.Atoi: parsing ${JSON.stringify(raw)}: invalid syntax`, SERVER_ERROR);
  return Number(raw);
}

function queryExplain(call: Call, idOrName: string): HttpOutcome {
  parseLimit(call);
  return nonBlockingRead(call, { q: 'preparedQueryExplain', idOrName }, (v, meta) =>
    json(200, { Query: (v as { Query: PreparedQuery }).Query, ...bodyMeta(meta, consistencyLevel(call)) }, call.pretty, metaHeaders(meta)),
  );
}

function queryExecute(call: Call, idOrName: string): HttpOutcome {
  const limit = parseLimit(call);
  const connect = call.params.get('connect');
  if (connect !== undefined && connect !== '' && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(connect)) {
    throw new BadRequest(`Error parsing 'connect' value: strconv.ParseBool: parsing ${JSON.stringify(connect)}: invalid syntax`, SERVER_ERROR);
  }
  const nearParam = call.params.get('near') ?? '';
  return nonBlockingRead(call, { q: 'preparedQueryExecute', idOrName }, (v, meta) => {
    const r = v as PreparedQueryExecution;
    let nodes: ServiceInstance[] = r.Nodes.length > 1 ? call.ctx.rng.shuffle(r.Nodes) : [...r.Nodes];
    // The caller's ?near= wins over the query's Near; `_agent` is this agent.
    let near = nearParam !== '' ? nearParam : r.Query.Service.Near;
    if (near === '_agent') near = call.ctx.nodeName;
    if (near !== '') {
      // Consul looks at most 10 deep for the node after its distance sort.
      const at = nodes.slice(0, 10).findIndex((n) => n.Node.Node.toLowerCase() === near.toLowerCase());
      if (at > 0) [nodes[0], nodes[at]] = [nodes[at]!, nodes[0]!];
    }
    if (limit > 0 && nodes.length > limit) nodes = nodes.slice(0, limit);
    return json(
      200,
      {
        Service: r.Query.Service.Service,
        Nodes: nodes.map(instanceJson),
        DNS: r.Query.DNS,
        Datacenter: call.ctx.datacenter,
        Failovers: 0,
        ...bodyMeta(meta, consistencyLevel(call)),
      },
      call.pretty,
      metaHeaders(meta),
    );
  });
}
