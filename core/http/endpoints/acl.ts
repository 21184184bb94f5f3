// core/http/endpoints/acl.ts — /v1/acl/*: bootstrap, policies, tokens, roles (Consul 1.x API).
//
// Owns: parsing policy/token/role bodies (Consul's field names, case-insensitive), compiling
// policy rules before they travel (HCL or JSON → Consul's JSON document), drawing new IDs and
// secrets from the agent's seeded Rng, and the JSON shapes answered (Consul omits empty lists).
// Must never: authorize (the servers do, with the request's token), or send a command that
// does not pass validateAclCommand: bad bodies are 400s here, not errors from the log.
import { newSessionId as newUuid } from '../../catalog/commands.ts';
import {
  isUuid,
  validateAclCommand,
  type AclCommand,
  type Link,
  type NodeIdentity,
  type ServiceIdentity,
  type TokenSpec,
} from '../../acl/commands.ts';
import type { AclQuery } from '../../acl/queries.ts';
import { parseRules, rulesToDocument, RulesError } from '../../acl/rules.ts';
import type { AclToken } from '../../acl/state.ts';
import { bodyObject, field, read, respond, type Call } from '../call.ts';
import { BadRequest } from '../params.ts';
import { json, metaHeaders, rpcError, text } from '../respond.ts';
import type { HttpOutcome } from '../types.ts';

const disabled = (): HttpOutcome => respond(text(401, 'ACL support disabled'));

function enabled(call: Call): boolean {
  return call.ctx.acl?.enabled === true;
}

function aclWrite(call: Call, cmd: AclCommand, render: (v: unknown) => unknown = (v) => v): HttpOutcome {
  const v = validateAclCommand(cmd);
  if (!v.ok) return respond(text(400, v.error));
  return {
    kind: 'rpc',
    request: { type: 'write', command: cmd },
    then: (r) => (r.ok ? json(200, render(r.value), call.pretty) : rpcError(r.error, r.meta)),
  };
}

function aclRead(call: Call, query: AclQuery, render: (v: unknown) => unknown = (v) => v, notFound?: string): HttpOutcome {
  return read(call, query, (v, meta) => {
    if (v === null && notFound !== undefined) return text(403, notFound);
    return json(200, render(v), call.pretty, metaHeaders(meta));
  });
}

// -------------------------------------------------------------- body parsing

function optString(body: Record<string, unknown>, name: string, def = ''): string {
  const v = field(body, name);
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string') throw new BadRequest(`Request decode failed: ${name} must be a string`);
  return v;
}

function optStrings(body: Record<string, unknown>, name: string): string[] {
  const v = field(body, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new BadRequest(`Request decode failed: ${name} must be an array of strings`);
  return v as string[];
}

function linksOf(body: Record<string, unknown>, name: string): Link[] {
  const v = field(body, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new BadRequest(`Request decode failed: ${name} must be an array of {"ID": "…"} or {"Name": "…"}`);
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new BadRequest(`Request decode failed: ${name}[${i}] must be an object with ID or Name`);
    const o = x as Record<string, unknown>;
    const id = field(o, 'ID');
    const nm = field(o, 'Name');
    if ((id !== undefined && typeof id !== 'string') || (nm !== undefined && typeof nm !== 'string')) throw new BadRequest(`Request decode failed: ${name}[${i}].ID and .Name must be strings`);
    if (!id && !nm) throw new BadRequest(`${name}[${i}] names neither an ID nor a Name`);
    return { ...(id ? { ID: id as string } : {}), ...(nm ? { Name: nm as string } : {}) };
  });
}

function identitiesOf(body: Record<string, unknown>): { ServiceIdentities: ServiceIdentity[]; NodeIdentities: NodeIdentity[] } {
  const obj = (v: unknown, what: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest(`Request decode failed: ${what} must be an object`);
    return v as Record<string, unknown>;
  };
  const arr = (n: string): unknown[] => {
    const v = field(body, n);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new BadRequest(`Request decode failed: ${n} must be an array`);
    return v;
  };
  return {
    ServiceIdentities: arr('ServiceIdentities').map((x, i) => {
      const o = obj(x, `ServiceIdentities[${i}]`);
      const dcs = optStrings(o, 'Datacenters');
      return { ServiceName: optString(o, 'ServiceName'), ...(dcs.length ? { Datacenters: dcs } : {}) };
    }),
    NodeIdentities: arr('NodeIdentities').map((x, i) => {
      const o = obj(x, `NodeIdentities[${i}]`);
      return { NodeName: optString(o, 'NodeName'), Datacenter: optString(o, 'Datacenter', '') };
    }),
  };
}

function optUuid(body: Record<string, unknown>, name: string): string | undefined {
  const v = optString(body, name);
  if (v === '') return undefined;
  if (!isUuid(v)) throw new BadRequest(`Invalid Token: ${name} must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  return v;
}

// ------------------------------------------------------------------ shapes

/** Consul's JSON omits empty link lists. */
function tokenJson(t: AclToken): Record<string, unknown> {
  return {
    AccessorID: t.AccessorID,
    SecretID: t.SecretID,
    Description: t.Description,
    ...(t.Policies.length ? { Policies: t.Policies } : {}),
    ...(t.Roles.length ? { Roles: t.Roles } : {}),
    ...(t.ServiceIdentities.length ? { ServiceIdentities: t.ServiceIdentities } : {}),
    ...(t.NodeIdentities.length ? { NodeIdentities: t.NodeIdentities } : {}),
    Local: t.Local,
    CreateTime: t.CreateTime,
    CreateIndex: t.CreateIndex,
    ModifyIndex: t.ModifyIndex,
  };
}

const tokenOrNull = (v: unknown): unknown => (v === null ? null : tokenJson(v as AclToken));

// --------------------------------------------------------------- bootstrap

export function aclBootstrap(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  const token: TokenSpec = {
    AccessorID: newUuid(call.ctx.rng),
    SecretID: newUuid(call.ctx.rng),
    Description: 'Bootstrap Token (Global Management)',
    Policies: [],
    Roles: [],
    ServiceIdentities: [],
    NodeIdentities: [],
    Local: false,
  };
  return aclWrite(call, { op: 'aclBootstrap', nowMs: call.ctx.nowMs, token }, (v) => tokenJson(v as AclToken));
}

// ----------------------------------------------------------------- policies

function policyCommand(call: Call, id: string, create: boolean): HttpOutcome {
  const body = bodyObject(call, 'the policy ({"Name": "…", "Rules": "…"})');
  const bodyId = optString(body, 'ID');
  if (!create && bodyId !== '' && bodyId !== id) throw new BadRequest('Policy ID in URL and payload do not match');
  const name = optString(body, 'Name');
  if (name === '') throw new BadRequest('Invalid Policy: no Name is set');
  const rulesText = optString(body, 'Rules');
  let compiled: Record<string, unknown>;
  try {
    compiled = rulesToDocument(parseRules(rulesText));
  } catch (e) {
    if (e instanceof RulesError) throw new BadRequest(`Invalid Policy: ${e.message}`);
    throw e;
  }
  return aclWrite(call, {
    op: 'aclPolicySet',
    nowMs: call.ctx.nowMs,
    create,
    policy: { ID: id, Name: name, Description: optString(body, 'Description'), Rules: rulesText, Compiled: compiled, Datacenters: optStrings(body, 'Datacenters') },
  });
}

export function aclPolicyCreate(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  return policyCommand(call, newUuid(call.ctx.rng), true);
}

/** GET, PUT or DELETE /v1/acl/policy/<id>; GET /v1/acl/policy/name/<name>. */
export function aclPolicy(call: Call, arg: string): HttpOutcome {
  if (!enabled(call)) return disabled();
  if (arg.startsWith('name/')) {
    if (call.req.method !== 'GET') throw new BadRequest('use GET for /v1/acl/policy/name/<name>');
    return aclRead(call, { q: 'aclPolicyReadByName', name: arg.slice(5) }, undefined, 'ACL not found');
  }
  if (arg === '') throw new BadRequest('Missing policy ID: use /v1/acl/policy/<id>');
  switch (call.req.method) {
    case 'GET':
      return aclRead(call, { q: 'aclPolicyRead', id: arg }, undefined, 'ACL not found');
    case 'PUT':
      if (!isUuid(arg)) throw new BadRequest(`Invalid Policy: ID ${JSON.stringify(arg)} is not a UUID`);
      return policyCommand(call, arg, false);
    default:
      return aclWrite(call, { op: 'aclPolicyDelete', nowMs: call.ctx.nowMs, id: arg }, () => true);
  }
}

export function aclPolicyList(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  return aclRead(call, { q: 'aclPolicyList' });
}

// ------------------------------------------------------------------- tokens

function tokenSpec(body: Record<string, unknown>, accessorId: string, secretId: string): TokenSpec {
  const ttl = field(body, 'ExpirationTTL');
  if (ttl !== undefined && ttl !== null && ttl !== '' && ttl !== 0) throw new BadRequest('Invalid Token: ExpirationTTL is not supported by this agent; leave it out');
  const local = field(body, 'Local');
  if (local !== undefined && local !== null && typeof local !== 'boolean') throw new BadRequest('Request decode failed: Local must be a boolean');
  return {
    AccessorID: accessorId,
    SecretID: secretId,
    Description: optString(body, 'Description'),
    Policies: linksOf(body, 'Policies'),
    Roles: linksOf(body, 'Roles'),
    ...identitiesOf(body),
    Local: local === true,
  };
}

export function aclTokenCreate(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  const body = bodyObject(call, 'the token ({"Description": "…", "Policies": [{"Name": "…"}]})', true);
  const accessor = optUuid(body, 'AccessorID') ?? newUuid(call.ctx.rng);
  const secret = optUuid(body, 'SecretID') ?? newUuid(call.ctx.rng);
  return aclWrite(call, { op: 'aclTokenSet', nowMs: call.ctx.nowMs, create: true, token: tokenSpec(body, accessor, secret) }, (v) => tokenJson(v as AclToken));
}

/** /v1/acl/token/self, /v1/acl/token/<accessor> (GET, PUT, DELETE). */
export function aclToken(call: Call, arg: string): HttpOutcome {
  if (!enabled(call)) return disabled();
  if (arg === 'self') {
    if (call.req.method !== 'GET') throw new BadRequest('use GET for /v1/acl/token/self');
    return aclRead(call, { q: 'aclTokenSelf' }, tokenOrNull, 'ACL not found');
  }
  if (arg === '') throw new BadRequest('Missing token AccessorID: use /v1/acl/token/<accessor-id>');
  switch (call.req.method) {
    case 'GET':
      return aclRead(call, { q: 'aclTokenRead', accessorId: arg }, tokenOrNull, 'ACL not found');
    case 'PUT': {
      if (!isUuid(arg)) throw new BadRequest(`Invalid Token: AccessorID ${JSON.stringify(arg)} is not a UUID`);
      const body = bodyObject(call, 'the token');
      const bodyId = optString(body, 'AccessorID');
      if (bodyId !== '' && bodyId !== arg) throw new BadRequest('Token Accessor ID in URL and payload do not match');
      // '' keeps the stored secret (an update never needs to know it).
      const secret = optString(body, 'SecretID');
      return aclWrite(call, { op: 'aclTokenSet', nowMs: call.ctx.nowMs, create: false, token: tokenSpec(body, arg, secret) }, (v) => tokenJson(v as AclToken));
    }
    default:
      return aclWrite(call, { op: 'aclTokenDelete', nowMs: call.ctx.nowMs, accessorId: arg }, () => true);
  }
}

export function aclTokenList(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  const policy = call.params.get('policy');
  const role = call.params.get('role');
  return aclRead(call, { q: 'aclTokenList', ...(policy ? { policy } : {}), ...(role ? { role } : {}) }, (v) => (v as AclToken[]).map(tokenJson));
}

// -------------------------------------------------------------------- roles

function roleCommand(call: Call, id: string, create: boolean): HttpOutcome {
  const body = bodyObject(call, 'the role ({"Name": "…", "Policies": [{"Name": "…"}]})');
  const name = optString(body, 'Name');
  if (name === '') throw new BadRequest('Invalid Role: no Name is set');
  return aclWrite(call, {
    op: 'aclRoleSet',
    nowMs: call.ctx.nowMs,
    create,
    role: { ID: id, Name: name, Description: optString(body, 'Description'), Policies: linksOf(body, 'Policies'), ...identitiesOf(body) },
  });
}

export function aclRoleCreate(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  return roleCommand(call, newUuid(call.ctx.rng), true);
}

export function aclRole(call: Call, arg: string): HttpOutcome {
  if (!enabled(call)) return disabled();
  if (arg.startsWith('name/')) {
    if (call.req.method !== 'GET') throw new BadRequest('use GET for /v1/acl/role/name/<name>');
    return aclRead(call, { q: 'aclRoleReadByName', name: arg.slice(5) }, undefined, 'ACL not found');
  }
  if (arg === '') throw new BadRequest('Missing role ID: use /v1/acl/role/<id>');
  switch (call.req.method) {
    case 'GET':
      return aclRead(call, { q: 'aclRoleRead', id: arg }, undefined, 'ACL not found');
    case 'PUT':
      if (!isUuid(arg)) throw new BadRequest(`Invalid Role: ID ${JSON.stringify(arg)} is not a UUID`);
      return roleCommand(call, arg, false);
    default:
      return aclWrite(call, { op: 'aclRoleDelete', nowMs: call.ctx.nowMs, id: arg }, () => true);
  }
}

export function aclRoleList(call: Call): HttpOutcome {
  if (!enabled(call)) return disabled();
  const policy = call.params.get('policy');
  return aclRead(call, { q: 'aclRoleList', ...(policy ? { policy } : {}) });
}
