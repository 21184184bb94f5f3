// core/http/endpoints/acl-local.ts — ACLs on the agent-local endpoints (/v1/agent/*).
//
// Owns: what each local read may show (members by node:read, services by service:read, checks
// by node/service read — applied by handing the endpoint a filtered ApiContext), and what each
// local operation needs (decided on the parsed AgentOp, so the endpoints stay ACL-unaware):
// service (de)registration service:write, node checks and maintenance node:write, join/leave/
// reload agent:write, force-leave operator:write, self and monitor agent:read.
// Must never: let a denied operation reach the agent: the 403 is returned instead of the op.
import type { Authorizer } from '../../acl/authorizer.ts';
import { ERR_PERMISSION_DENIED } from '../../acl/enforce.ts';
import { respond } from '../call.ts';
import { text } from '../respond.ts';
import type { AgentOp, ApiContext, HttpOutcome, LocalCheck } from '../types.ts';

const denied = (): HttpOutcome => respond(text(403, ERR_PERMISSION_DENIED));

function checkVisible(authz: Authorizer, c: LocalCheck): boolean {
  return authz.allowed('node', c.Node, 'read') && (c.ServiceName === '' || authz.allowed('service', c.ServiceName, 'read'));
}

/** The agent's facts with what the caller may not read left out. */
export function filteredContext(ctx: ApiContext, authz: Authorizer): ApiContext {
  if (authz.management) return ctx;
  return {
    ...ctx,
    membersLan: () => ctx.membersLan().filter((m) => authz.allowed('node', m.name, 'read')),
    // WAN members are "<node>.<dc>"; Consul checks node:read on the node part.
    membersWan: () => ctx.membersWan().filter((m) => authz.allowed('node', m.name.replace(/\.[^.]*$/, ''), 'read')),
    localServices: () => ctx.localServices().filter((s) => authz.allowed('service', s.Service, 'read')),
    localChecks: () => ctx.localChecks().filter((c) => checkVisible(authz, c)),
  };
}

/** Reads answered without an op that still need agent:read. */
export function localReadAllowed(path: string, ctx: ApiContext, authz: Authorizer): boolean {
  if (path === '/v1/agent/self' || path === '/v1/agent/monitor') return authz.allowed('agent', ctx.nodeName, 'read');
  return true;
}

function checkWrite(ctx: ApiContext, authz: Authorizer, id: string): boolean {
  const c = ctx.localChecks().find((x) => x.CheckID === id);
  if (c && c.ServiceName !== '') return authz.allowed('service', c.ServiceName, 'write');
  return authz.allowed('node', ctx.nodeName, 'write');
}

function serviceWrite(ctx: ApiContext, authz: Authorizer, id: string): boolean {
  const s = ctx.localServices().find((x) => x.ID === id);
  // An unknown ID is the agent's 404 to give; the name it would have had is its ID.
  return authz.allowed('service', s?.Service ?? id, 'write');
}

export function opAllowed(op: AgentOp, ctx: ApiContext, authz: Authorizer): boolean {
  if (authz.management) return true;
  switch (op.op) {
    case 'join':
    case 'leave':
    case 'reload':
      return authz.allowed('agent', ctx.nodeName, 'write');
    case 'forceLeave':
      return authz.allowedGlobal('operator', 'write');
    case 'monitor':
      return authz.allowed('agent', ctx.nodeName, 'read');
    case 'nodeMaintenance':
      return authz.allowed('node', ctx.nodeName, 'write');
    case 'serviceRegister':
      return authz.allowed('service', op.def.name, 'write');
    case 'serviceDeregister':
    case 'serviceMaintenance':
      return serviceWrite(ctx, authz, op.id);
    case 'checkRegister':
      if (op.def.serviceId !== '') return serviceWrite(ctx, authz, op.def.serviceId);
      return authz.allowed('node', ctx.nodeName, 'write');
    case 'checkDeregister':
    case 'checkUpdate':
      return checkWrite(ctx, authz, op.id);
  }
}

/** Run a local endpoint under an authorizer: filtered facts in, denied ops out as 403s. */
export function runLocal(path: string, ctx: ApiContext, authz: Authorizer, run: (ctx: ApiContext) => HttpOutcome): HttpOutcome {
  if (!localReadAllowed(path, ctx, authz)) return denied();
  const out = run(filteredContext(ctx, authz));
  if (out.kind === 'agent' && !opAllowed(out.op, ctx, authz)) return denied();
  return out;
}
