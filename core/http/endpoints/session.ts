// core/http/endpoints/session.ts — /v1/session/{create,destroy,info,node,list,renew}.
//
// Owns: decoding session-create bodies (LockDelay as a duration string, or a number that
// Consul reads as seconds below 1000 and nanoseconds above), drawing the session UUID from
// the agent's Rng, and rendering sessions (LockDelay in ns, TTL as a duration string).
// Must never: validate TTL ranges or behaviours itself beyond decoding; the catalog's
// validator gives Consul's exact messages ("Invalid Session TTL '…'", "Invalid Behavior …").
import { newSessionId, type SessionCreateCommand } from '../../catalog/commands.ts';
import type { Session } from '../../catalog/types.ts';
import { bodyObject, field, read, rpc, write, type Call } from '../call.ts';
import { parseGoDuration } from '../duration.ts';
import { sessionJson } from '../encode.ts';
import { BadRequest } from '../params.ts';
import { json, metaHeaders, text } from '../respond.ts';
import type { HttpOutcome } from '../types.ts';

/** Consul's lockDelayMinThreshold: bare numbers below this are seconds, else nanoseconds. */
const LOCK_DELAY_SECONDS_BELOW = 1000;

function durationField(v: unknown, name: string, numberIsLockDelay: boolean): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new BadRequest(`Request decode failed: ${name} must not be negative`);
    if (numberIsLockDelay && v < LOCK_DELAY_SECONDS_BELOW) return v * 1000;
    return v / 1e6;
  }
  if (typeof v !== 'string') throw new BadRequest(`Request decode failed: ${name} must be a duration string like "15s"`);
  const ms = parseGoDuration(v);
  if (ms === null) {
    if (name === 'TTL') throw new BadRequest(`Session TTL '${v}' invalid: not a duration (use e.g. "15s")`, 500);
    throw new BadRequest(`Request decode failed: ${name} ${JSON.stringify(v)} is not a duration (use e.g. "15s")`);
  }
  return ms;
}

/** ServiceChecks: [{"ID": "...", "Namespace": "..."}] (a bare ID string is accepted too). */
function decodeServiceChecks(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const bad = () => new BadRequest('Request decode failed: ServiceChecks must be a list of {"ID": "<check id>"} objects');
  if (!Array.isArray(v)) throw bad();
  return v.map((c) => {
    if (typeof c === 'string') return c;
    if (typeof c !== 'object' || c === null) throw bad();
    const id = field(c as Record<string, unknown>, 'ID');
    if (typeof id !== 'string' || id === '') throw bad();
    return id;
  });
}

export function sessionCreate(call: Call): HttpOutcome {
  call.params.checkDatacenter(call.ctx.datacenter);
  const body = bodyObject(call, 'the session', true);
  const name = field(body, 'Name');
  const node = field(body, 'Node');
  const checks = field(body, 'Checks');
  const behavior = field(body, 'Behavior');
  if (name !== undefined && name !== null && typeof name !== 'string') throw new BadRequest('Request decode failed: Name must be a string');
  if (node !== undefined && node !== null && typeof node !== 'string') throw new BadRequest('Request decode failed: Node must be a string');
  if (behavior !== undefined && behavior !== null && typeof behavior !== 'string') {
    throw new BadRequest('Request decode failed: Behavior must be a string');
  }
  if (checks !== undefined && checks !== null && (!Array.isArray(checks) || checks.some((c) => typeof c !== 'string'))) {
    throw new BadRequest('Request decode failed: Checks must be a list of check IDs');
  }
  const nodeChecks = field(body, 'NodeChecks');
  if (nodeChecks !== undefined && nodeChecks !== null && (!Array.isArray(nodeChecks) || nodeChecks.some((c) => typeof c !== 'string'))) {
    throw new BadRequest('Request decode failed: NodeChecks must be a list of check IDs');
  }
  const serviceChecks = decodeServiceChecks(field(body, 'ServiceChecks'));
  // Consul ≥1.7: NodeChecks wins; legacy Checks fill in; serfHealth only when neither is sent.
  const nodeFirst = Array.isArray(nodeChecks) ? (nodeChecks as string[]) : Array.isArray(checks) ? (checks as string[]) : undefined;
  const nodeList = nodeFirst && Array.isArray(nodeChecks) && Array.isArray(checks) ? [...new Set([...nodeFirst, ...(checks as string[])])] : nodeFirst;
  const lockDelayMs = durationField(field(body, 'LockDelay'), 'LockDelay', true);
  const ttlMs = durationField(field(body, 'TTL'), 'TTL', false);
  const id = newSessionId(call.ctx.rng);
  const cmd: SessionCreateCommand = {
    op: 'sessionCreate',
    nowMs: call.ctx.nowMs,
    id,
    node: (node as string | undefined) || call.ctx.nodeName,
    ...(typeof name === 'string' ? { name } : {}),
    ...(nodeList ? { checks: nodeList.filter((c) => !serviceChecks?.includes(c)) } : {}),
    ...(serviceChecks && serviceChecks.length > 0 ? { serviceChecks } : {}),
    ...(lockDelayMs !== undefined ? { lockDelayMs: Math.round(lockDelayMs) } : {}),
    ...(typeof behavior === 'string' && behavior !== '' ? { behavior } : {}),
    ...(ttlMs !== undefined ? { ttlMs: Math.round(ttlMs) } : {}),
  };
  // Consul's servers raise TTL/behaviour errors, so they come back as 500s.
  return write(call, cmd, () => json(200, { ID: id }, call.pretty), 500);
}

export function sessionDestroy(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing session ID: use /v1/session/destroy/<id>');
  return write(call, { op: 'sessionDestroy', nowMs: call.ctx.nowMs, id }, () => json(200, true, call.pretty));
}

const renderSessions = (call: Call) => (v: unknown, meta: Parameters<typeof metaHeaders>[0]) =>
  json(200, (v as Session[]).map(sessionJson), call.pretty, metaHeaders(meta));

export function sessionInfo(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing session ID: use /v1/session/info/<id>');
  return read(call, { q: 'sessionInfo', id }, renderSessions(call));
}

export function sessionNode(call: Call, node: string): HttpOutcome {
  if (!node) throw new BadRequest('Missing node name: use /v1/session/node/<node>');
  return read(call, { q: 'sessionNode', node }, renderSessions(call));
}

export function sessionList(call: Call): HttpOutcome {
  return read(call, { q: 'sessionList' }, renderSessions(call));
}

export function sessionRenew(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing session ID: use /v1/session/renew/<id>');
  return rpc(call, { type: 'sessionRenew', id }, (v) => {
    const s = v as Session | null;
    if (!s) return text(404, `Session id '${id}' not found`);
    return json(200, [sessionJson(s)], call.pretty);
  });
}
