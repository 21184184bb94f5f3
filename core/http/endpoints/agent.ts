// core/http/endpoints/agent.ts — /v1/agent/*: the local agent's own view and controls.
//
// Owns: self, members, services, checks, join, leave, force-leave, maintenance, reload,
// monitor, service (de)registration and maintenance, check (de)registration and TTL updates.
// Must never: reach the servers; everything here is answered from ApiContext or an AgentOp.
import type { HealthStatus } from '../../catalog/types.ts';
import {
  DefinitionError,
  parseCheckRegistration,
  parseServiceRegistration,
} from '../../agent/definitions.ts';
import { agentOp, bodyObject, field, respond, type Call } from '../call.ts';
import { localCheckJson, localServiceJson, memberJson } from '../encode.ts';
import { BadRequest } from '../params.ts';
import { json, text } from '../respond.ts';
import type { HttpOutcome, LogLine } from '../types.ts';

/** Consul truncates check output to 4 KB. */
const CHECK_OUTPUT_MAX = 4096;

export function agentSelf(call: Call): HttpOutcome {
  const s = call.ctx.self();
  return respond(json(200, { Config: s.Config, Member: memberJson(s.Member), Stats: s.Stats }, call.pretty));
}

export function agentMembers(call: Call): HttpOutcome {
  const members = call.params.flag('wan') ? call.ctx.membersWan() : call.ctx.membersLan();
  return respond(json(200, members.map(memberJson), call.pretty));
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function agentServices(call: Call): HttpOutcome {
  const out: Record<string, unknown> = {};
  for (const s of [...call.ctx.localServices()].sort((a, b) => byId(a.ID, b.ID))) out[s.ID] = localServiceJson(s);
  return respond(json(200, out, call.pretty));
}

export function agentChecks(call: Call): HttpOutcome {
  const out: Record<string, unknown> = {};
  for (const c of [...call.ctx.localChecks()].sort((a, b) => byId(a.CheckID, b.CheckID))) out[c.CheckID] = localCheckJson(c);
  return respond(json(200, out, call.pretty));
}

export function agentJoin(call: Call, addr: string): HttpOutcome {
  if (!addr) throw new BadRequest('Missing address to join: use /v1/agent/join/<ip[:port]>');
  return agentOp(call, { op: 'join', addrs: [addr], wan: call.params.flag('wan') });
}

export function agentLeave(call: Call): HttpOutcome {
  return agentOp(call, { op: 'leave' });
}

export function agentForceLeave(call: Call, node: string): HttpOutcome {
  if (!node) throw new BadRequest('Missing node name: use /v1/agent/force-leave/<node>');
  return agentOp(call, { op: 'forceLeave', node });
}

export function agentReload(call: Call): HttpOutcome {
  return agentOp(call, { op: 'reload' });
}

export function agentMaintenance(call: Call): HttpOutcome {
  const enable = call.params.requiredBool('enable');
  return agentOp(call, { op: 'nodeMaintenance', enable, reason: call.params.get('reason') ?? '' });
}

export function serviceRegister(call: Call): HttpOutcome {
  const body = bodyObject(call, 'the service definition');
  try {
    const { def } = parseServiceRegistration(body);
    return agentOp(call, { op: 'serviceRegister', def });
  } catch (err) {
    if (err instanceof DefinitionError) throw new BadRequest(err.message);
    throw err;
  }
}

export function serviceDeregister(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing service ID: use /v1/agent/service/deregister/<id>');
  return agentOp(call, { op: 'serviceDeregister', id });
}

export function serviceMaintenance(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing service ID: use /v1/agent/service/maintenance/<id>?enable=true');
  const enable = call.params.requiredBool('enable');
  return agentOp(call, { op: 'serviceMaintenance', id, enable, reason: call.params.get('reason') ?? '' });
}

export function checkRegister(call: Call): HttpOutcome {
  const body = bodyObject(call, 'the check definition');
  try {
    const { def } = parseCheckRegistration(body);
    return agentOp(call, { op: 'checkRegister', def });
  } catch (err) {
    if (err instanceof DefinitionError) throw new BadRequest(err.message);
    throw err;
  }
}

export function checkDeregister(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing check ID: use /v1/agent/check/deregister/<id>');
  return agentOp(call, { op: 'checkDeregister', id });
}

/** /v1/agent/check/{pass,warn,fail}/:id?note= */
export function checkMark(call: Call, status: HealthStatus, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing check ID');
  const note = (call.params.get('note') ?? '').slice(0, CHECK_OUTPUT_MAX);
  return agentOp(call, { op: 'checkUpdate', id, status, output: note });
}

/** PUT /v1/agent/check/update/:id {"Status": "...", "Output": "..."} */
export function checkUpdate(call: Call, id: string): HttpOutcome {
  if (!id) throw new BadRequest('Missing check ID');
  const body = bodyObject(call, 'the check update ({"Status": "passing", "Output": "..."})');
  const status = field(body, 'Status');
  if (status !== 'passing' && status !== 'warning' && status !== 'critical') {
    throw new BadRequest(`Invalid check status: '${typeof status === 'string' ? status : ''}'`);
  }
  const output = field(body, 'Output');
  if (output !== undefined && output !== null && typeof output !== 'string') throw new BadRequest('Request decode failed: Output must be a string');
  return agentOp(call, { op: 'checkUpdate', id, status, output: (output ?? '').slice(0, CHECK_OUTPUT_MAX) });
}

const LEVEL_RANK: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERR: 4 };

/**
 * GET /v1/agent/monitor?loglevel=info&index=<seq>&wait=: log lines after seq, as text.
 * Consul streams; Muster long-polls (the CLI loops), answering at once when lines exist.
 * X-Consul-Index carries the seq to ask from next time.
 */
export function agentMonitor(call: Call): HttpOutcome {
  const levelText = (call.params.get('loglevel') ?? 'info').toUpperCase();
  const level = levelText === 'ERROR' ? 'ERR' : levelText === 'WARNING' ? 'WARN' : levelText;
  const min = LEVEL_RANK[level];
  if (min === undefined) throw new BadRequest(`Unknown log level: ${levelText.toLowerCase()} (use trace, debug, info, warn or err)`);
  const after = call.params.uint('index', 'index') ?? 0;
  const render = (lines: LogLine[]) => {
    const last = lines.length > 0 ? lines[lines.length - 1]!.seq : after;
    const shown = lines.filter((l) => (LEVEL_RANK[l.level] ?? 0) >= min);
    return text(200, shown.map((l) => `${l.text}\n`).join(''), { 'X-Consul-Index': String(last) });
  };
  const now = call.ctx.logsAfter?.(after) ?? [];
  if (now.length > 0 || !call.params.has('index')) return respond(render(now));
  const maxWaitMs = call.params.waitMs(call.ctx.rng);
  return agentOp(call, { op: 'monitor', afterSeq: after, maxWaitMs }, (v) => render((v as LogLine[] | undefined) ?? []));
}
