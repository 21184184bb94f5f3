// core/http/endpoints/catalog.ts — /v1/catalog/* and /v1/health/*.
//
// Owns: mapping catalog and health requests to Queries / register-deregister Commands
// (with their Selection: repeated ?tag=, ?node-meta=k:v, ?filter= checked here so a bad
// expression is a 400 naming the problem), and rendering results in Consul's shapes.
// Must never: filter or sort results itself beyond what the query asked (the servers do).
import type { CheckSpec, NodeSpec, RegisterCommand, ServiceSpec } from '../../catalog/commands.ts';
import type { CatalogNode, HealthCheck, HealthStatus, ServiceInstance } from '../../catalog/types.ts';
import type { CatalogNodeResult, CatalogServiceRow } from '../../rpc/query.ts';
import { bodyObject, field, read, respond, write, type Call } from '../call.ts';
import { catalogServiceJson, checkJson, instanceJson, nodeJson, serviceJson } from '../encode.ts';
import { BadRequest } from '../params.ts';
import { compileFilter, FilterError } from '../../filter/bexpr.ts';
import { FILTER_SCHEMAS, type FilterKind } from '../../filter/fields.ts';
import type { Selection } from '../../rpc/types.ts';
import { json, metaHeaders } from '../respond.ts';
import type { HttpOutcome } from '../types.ts';

/** `?tag=` (repeatable, all must match), `?node-meta=k:v` (repeatable, all must match) and
 *  `?filter=`, compiled now against the records it will see. `?near=` is accepted and keeps
 *  the catalog's order: Muster has no network coordinates yet. */
function selection(call: Call, kind: FilterKind, opts: { tags?: boolean; nodeMeta?: boolean } = {}): Selection {
  const sel: Selection = {};
  if (opts.tags) {
    const tags = call.params.all('tag');
    if (tags.length > 0) sel.tags = tags;
  }
  if (opts.nodeMeta) {
    const pairs = call.params.all('node-meta').map((raw): [string, string] => {
      const at = raw.indexOf(':');
      return at < 0 ? [raw, ''] : [raw.slice(0, at), raw.slice(at + 1)];
    });
    if (pairs.some(([k]) => k === '')) throw new BadRequest('Invalid node-meta: use ?node-meta=key:value');
    if (pairs.length > 0) sel.nodeMeta = pairs;
  }
  const filter = call.params.get('filter');
  if (filter !== undefined && filter !== '') {
    try {
      compileFilter(filter, FILTER_SCHEMAS[kind]);
    } catch (e) {
      if (e instanceof FilterError) throw new BadRequest(e.message);
      throw e;
    }
    sel.filter = filter;
  }
  return sel;
}

/** Datacenters known from the WAN pool (servers tag their dc), always including ours. */
export function catalogDatacenters(call: Call): HttpOutcome {
  const dcs = new Set([call.ctx.datacenter]);
  for (const m of call.ctx.membersWan()) if (m.tags['dc']) dcs.add(m.tags['dc']);
  return respond(json(200, [...dcs].sort(), call.pretty));
}

export function catalogNodes(call: Call): HttpOutcome {
  return read(call, { q: 'catalogNodes', ...selection(call, 'node', { nodeMeta: true }) }, (v, meta) =>
    json(200, (v as CatalogNode[]).map(nodeJson), call.pretty, metaHeaders(meta)),
  );
}

export function catalogNode(call: Call, node: string): HttpOutcome {
  if (!node) throw new BadRequest('Missing node name: use /v1/catalog/node/<node>');
  return read(call, { q: 'catalogNode', node, ...selection(call, 'service') }, (v, meta) => {
    const r = v as CatalogNodeResult | null;
    if (!r) return json(200, null, call.pretty, metaHeaders(meta));
    const services: Record<string, unknown> = {};
    for (const s of r.Services) services[s.ID] = serviceJson(s);
    return json(200, { Node: nodeJson(r.Node), Services: services }, call.pretty, metaHeaders(meta));
  });
}

export function catalogServices(call: Call): HttpOutcome {
  return read(call, { q: 'catalogServices', ...selection(call, 'serviceNode', { nodeMeta: true }) });
}

export function catalogService(call: Call, service: string): HttpOutcome {
  if (!service) throw new BadRequest('Missing service name: use /v1/catalog/service/<service>');
  return read(call, { q: 'catalogService', service, ...selection(call, 'serviceNode', { tags: true, nodeMeta: true }) }, (v, meta) =>
    json(200, (v as CatalogServiceRow[]).map((r) => catalogServiceJson(r.Node, r.Service)), call.pretty, metaHeaders(meta)),
  );
}

function strField(obj: Record<string, unknown>, where: string, ...names: string[]): string | undefined {
  const v = field(obj, ...names);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`Request decode failed: ${where}${names[0]} must be a string`);
  return v;
}

function objField(obj: Record<string, unknown>, where: string, ...names: string[]): Record<string, unknown> | undefined {
  const v = field(obj, ...names);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`Request decode failed: ${where}${names[0]} must be an object`);
  return v as Record<string, unknown>;
}

function checkSpec(c: unknown, where: string, defaultServiceId: string | undefined): CheckSpec {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new BadRequest(`Request decode failed: ${where} must be an object`);
  const o = c as Record<string, unknown>;
  const status = strField(o, `${where}.`, 'Status');
  if (status !== undefined && status !== '' && status !== 'passing' && status !== 'warning' && status !== 'critical') {
    throw new BadRequest(`Invalid check status: '${status}'`);
  }
  const spec: CheckSpec = { Name: strField(o, `${where}.`, 'Name') ?? '' };
  const id = strField(o, `${where}.`, 'CheckID', 'ID');
  if (id) spec.CheckID = id;
  if (status) spec.Status = status as HealthStatus;
  const notes = strField(o, `${where}.`, 'Notes');
  if (notes !== undefined) spec.Notes = notes;
  const output = strField(o, `${where}.`, 'Output');
  if (output !== undefined) spec.Output = output;
  const sid = strField(o, `${where}.`, 'ServiceID') ?? defaultServiceId;
  if (sid) spec.ServiceID = sid;
  return spec;
}

/** PUT /v1/catalog/register: node (+ service) (+ checks), Consul's structs.RegisterRequest. */
export function catalogRegister(call: Call): HttpOutcome {
  const body = bodyObject(call, 'the registration');
  call.params.checkDatacenter(call.ctx.datacenter);
  const dc = strField(body, '', 'Datacenter');
  if (dc && dc !== call.ctx.datacenter) throw new BadRequest('No path to datacenter', 500);
  const node: NodeSpec = { Node: strField(body, '', 'Node') ?? '', Address: strField(body, '', 'Address') ?? '' };
  const id = strField(body, '', 'ID');
  if (id) node.ID = id;
  node.Datacenter = call.ctx.datacenter;
  const tagged = objField(body, '', 'TaggedAddresses');
  if (tagged) node.TaggedAddresses = tagged as Record<string, string>;
  const meta = objField(body, '', 'NodeMeta');
  if (meta) node.Meta = meta as Record<string, string>;

  const cmd: RegisterCommand = { op: 'register', nowMs: call.ctx.nowMs, node };
  const svc = objField(body, '', 'Service');
  if (svc) {
    const spec: ServiceSpec = { Service: strField(svc, 'Service.', 'Service', 'Name') ?? '' };
    const sid = strField(svc, 'Service.', 'ID');
    if (sid) spec.ID = sid;
    const tags = field(svc, 'Tags');
    if (tags !== undefined && tags !== null) spec.Tags = tags as string[];
    const addr = strField(svc, 'Service.', 'Address');
    if (addr !== undefined) spec.Address = addr;
    const port = field(svc, 'Port');
    if (port !== undefined && port !== null) spec.Port = port as number;
    const smeta = objField(svc, 'Service.', 'Meta');
    if (smeta) spec.Meta = smeta as Record<string, string>;
    const eto = field(svc, 'EnableTagOverride');
    if (eto !== undefined && eto !== null) spec.EnableTagOverride = eto as boolean;
    const w = objField(svc, 'Service.', 'Weights');
    if (w) spec.Weights = { Passing: (field(w, 'Passing') as number) ?? 1, Warning: (field(w, 'Warning') as number) ?? 1 };
    cmd.service = spec;
  }
  const checks: CheckSpec[] = [];
  const one = field(body, 'Check');
  if (one !== undefined && one !== null) checks.push(checkSpec(one, 'Check', undefined));
  const many = field(body, 'Checks');
  if (many !== undefined && many !== null) {
    if (!Array.isArray(many)) throw new BadRequest('Request decode failed: Checks must be a list');
    many.forEach((c, i) => checks.push(checkSpec(c, `Checks[${i}]`, undefined)));
  }
  if (checks.length > 0) cmd.checks = checks;
  return write(call, cmd);
}

/** PUT /v1/catalog/deregister {"Node", "ServiceID"?, "CheckID"?} */
export function catalogDeregister(call: Call): HttpOutcome {
  const body = bodyObject(call, 'the deregistration');
  call.params.checkDatacenter(call.ctx.datacenter);
  const dc = strField(body, '', 'Datacenter');
  if (dc && dc !== call.ctx.datacenter) throw new BadRequest('No path to datacenter', 500);
  const serviceId = strField(body, '', 'ServiceID');
  const checkId = strField(body, '', 'CheckID');
  return write(call, {
    op: 'deregister',
    nowMs: call.ctx.nowMs,
    node: strField(body, '', 'Node') ?? '',
    ...(serviceId ? { serviceId } : {}),
    ...(checkId ? { checkId } : {}),
  });
}

const renderChecks = (call: Call) => (v: unknown, meta: Parameters<typeof metaHeaders>[0]) =>
  json(200, (v as HealthCheck[]).map(checkJson), call.pretty, metaHeaders(meta));

export function healthNode(call: Call, node: string): HttpOutcome {
  if (!node) throw new BadRequest('Missing node name: use /v1/health/node/<node>');
  return read(call, { q: 'healthNode', node, ...selection(call, 'check') }, renderChecks(call));
}

export function healthChecks(call: Call, service: string): HttpOutcome {
  if (!service) throw new BadRequest('Missing service name: use /v1/health/checks/<service>');
  return read(call, { q: 'healthChecks', service, ...selection(call, 'check', { nodeMeta: true }) }, renderChecks(call));
}

export function healthService(call: Call, service: string): HttpOutcome {
  if (!service) throw new BadRequest('Missing service name: use /v1/health/service/<service>');
  return read(
    call,
    { q: 'healthService', service, passingOnly: call.params.flag('passing'), ...selection(call, 'healthEntry', { tags: true, nodeMeta: true }) },
    (v, meta) => json(200, (v as ServiceInstance[]).map(instanceJson), call.pretty, metaHeaders(meta)),
  );
}

const STATES = ['any', 'passing', 'warning', 'critical'] as const;

export function healthState(call: Call, state: string): HttpOutcome {
  if (!(STATES as readonly string[]).includes(state)) {
    throw new BadRequest(`Invalid state: ${JSON.stringify(state)} (use any, passing, warning or critical)`);
  }
  return read(call, { q: 'healthState', state: state as (typeof STATES)[number], ...selection(call, 'check', { nodeMeta: true }) }, renderChecks(call));
}
