// core/acl/commands.ts — the ACL writes that travel through Raft, and their stateless checks.
//
// Owns: the ACL command union (bootstrap, policy/token/role set and delete), the records'
// link shapes, Consul's well-known IDs (global-management policy, anonymous token), the name
// rules, and validateAclCommand (log entries are bytes from the wire, so apply re-checks).
// Must never: look at ACL state (state.ts does) or throw: bad input is an error string.
//
// IDs and secrets are drawn by the PROPOSER (its seeded Rng) and carried in the command, as
// session IDs are, so apply stays a pure function of (state, index, command). Policies carry
// their rules already compiled into Consul's JSON shape (the proposer may have parsed HCL), so
// apply never needs an HCL parser.
import { rulesFromDocument, RulesError } from './rules.ts';

export const GLOBAL_MANAGEMENT_POLICY_ID = '00000000-0000-0000-0000-000000000001';
export const GLOBAL_MANAGEMENT_POLICY_NAME = 'global-management';
export const ANONYMOUS_TOKEN_ID = '00000000-0000-0000-0000-000000000002';
export const ANONYMOUS_TOKEN_SECRET = 'anonymous';

/** A policy or role named by ID or by Name (the API accepts either). */
export interface Link {
  ID?: string;
  Name?: string;
}

export interface ServiceIdentity {
  ServiceName: string;
  Datacenters?: string[];
}

export interface NodeIdentity {
  NodeName: string;
  Datacenter: string;
}

export interface PolicySpec {
  ID: string;
  Name: string;
  Description: string;
  /** The rules text as the user wrote it (HCL or JSON). */
  Rules: string;
  /** The rules as a Consul JSON document, compiled by the proposer. */
  Compiled: unknown;
  Datacenters: string[];
}

export interface TokenSpec {
  AccessorID: string;
  SecretID: string;
  Description: string;
  Policies: Link[];
  Roles: Link[];
  ServiceIdentities: ServiceIdentity[];
  NodeIdentities: NodeIdentity[];
  Local: boolean;
}

export interface RoleSpec {
  ID: string;
  Name: string;
  Description: string;
  Policies: Link[];
  ServiceIdentities: ServiceIdentity[];
  NodeIdentities: NodeIdentity[];
}

interface Base {
  nowMs: number;
}

export type AclCommand =
  | (Base & { op: 'aclBootstrap'; token: TokenSpec })
  | (Base & { op: 'aclPolicySet'; policy: PolicySpec; create: boolean })
  | (Base & { op: 'aclPolicyDelete'; id: string })
  | (Base & { op: 'aclTokenSet'; token: TokenSpec; create: boolean })
  | (Base & { op: 'aclTokenDelete'; accessorId: string })
  | (Base & { op: 'aclRoleSet'; role: RoleSpec; create: boolean })
  | (Base & { op: 'aclRoleDelete'; id: string });

export type AclCommandOp = AclCommand['op'];
export const ACL_COMMAND_OPS: readonly AclCommandOp[] = [
  'aclBootstrap',
  'aclPolicySet',
  'aclPolicyDelete',
  'aclTokenSet',
  'aclTokenDelete',
  'aclRoleSet',
  'aclRoleDelete',
];

/** True when a log entry is an ACL command (the catalog FSM hands those to AclState). */
export function isAclCommand(cmd: unknown): boolean {
  return typeof cmd === 'object' && cmd !== null && (ACL_COMMAND_OPS as readonly unknown[]).includes((cmd as { op?: unknown }).op);
}

/** Consul's rule for policy and role names. */
export const NAME_RE = /^[A-Za-z0-9\-_]{1,128}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Consul's rule for service identity names (a DNS-safe label, lowercase). */
const SERVICE_NAME_RE = /^[a-z0-9]([a-z0-9-_]*[a-z0-9])?$/;

export const isUuid = (s: string): boolean => UUID_RE.test(s);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Bad {
  constructor(readonly error: string) {}
}

function str(o: Obj, f: string, where: string): string {
  if (typeof o[f] !== 'string') throw new Bad(`${where}: field '${f}' must be a string`);
  return o[f] as string;
}

function links(o: Obj, f: string, where: string): void {
  const v = o[f];
  if (!Array.isArray(v)) throw new Bad(`${where}: field '${f}' must be an array of {"ID": …} or {"Name": …}`);
  v.forEach((l, i) => {
    if (!isObj(l) || (typeof l['ID'] !== 'string' && typeof l['Name'] !== 'string') || (l['ID'] !== undefined && typeof l['ID'] !== 'string') || (l['Name'] !== undefined && typeof l['Name'] !== 'string')) {
      throw new Bad(`${where}: ${f}[${i}] must name an ID or a Name`);
    }
  });
}

function identities(o: Obj, where: string): void {
  const s = o['ServiceIdentities'];
  if (!Array.isArray(s)) throw new Bad(`${where}: field 'ServiceIdentities' must be an array`);
  s.forEach((x, i) => {
    if (!isObj(x) || typeof x['ServiceName'] !== 'string' || !SERVICE_NAME_RE.test(x['ServiceName'])) {
      throw new Bad(`${where}: ServiceIdentities[${i}].ServiceName must be a lowercase name of letters, digits, '-' and '_'`);
    }
    if (x['Datacenters'] !== undefined && !(Array.isArray(x['Datacenters']) && x['Datacenters'].every((d) => typeof d === 'string'))) {
      throw new Bad(`${where}: ServiceIdentities[${i}].Datacenters must be an array of strings`);
    }
  });
  const n = o['NodeIdentities'];
  if (!Array.isArray(n)) throw new Bad(`${where}: field 'NodeIdentities' must be an array`);
  n.forEach((x, i) => {
    if (!isObj(x) || typeof x['NodeName'] !== 'string' || x['NodeName'] === '' || typeof x['Datacenter'] !== 'string' || x['Datacenter'] === '') {
      throw new Bad(`${where}: NodeIdentities[${i}] needs a NodeName and a Datacenter`);
    }
  });
}

/** `update`: an empty SecretID keeps the stored one. */
function checkToken(t: unknown, where: string, update: boolean): void {
  if (!isObj(t)) throw new Bad(`${where}: field 'token' must be an object`);
  for (const f of ['AccessorID', 'SecretID']) {
    const v = str(t, f, where);
    const keep = f === 'SecretID' && (v === ANONYMOUS_TOKEN_SECRET || (update && v === ''));
    if (!isUuid(v) && !keep) throw new Bad(`Invalid Token: ${f} must be a UUID`);
  }
  str(t, 'Description', where);
  links(t, 'Policies', where);
  links(t, 'Roles', where);
  identities(t, where);
  if (typeof t['Local'] !== 'boolean') throw new Bad(`${where}: field 'Local' must be a boolean`);
}

/** The first structural problem of an ACL command, or ok. */
export function validateAclCommand(cmd: unknown): { ok: true; cmd: AclCommand } | { ok: false; error: string } {
  try {
    if (!isObj(cmd)) throw new Bad('ACL command must be an object');
    const op = cmd['op'];
    const where = `ACL command '${String(op)}'`;
    if (typeof cmd['nowMs'] !== 'number' || !Number.isFinite(cmd['nowMs'])) throw new Bad(`${where}: field 'nowMs' must be a finite number`);
    switch (op) {
      case 'aclBootstrap':
        checkToken(cmd['token'], where, false);
        break;
      case 'aclTokenSet':
        if (typeof cmd['create'] !== 'boolean') throw new Bad(`${where}: field 'create' must be a boolean`);
        checkToken(cmd['token'], where, !cmd['create']);
        break;
      case 'aclPolicySet': {
        const p = cmd['policy'];
        if (!isObj(p)) throw new Bad(`${where}: field 'policy' must be an object`);
        if (!isUuid(str(p, 'ID', where))) throw new Bad(`${where}: policy ID must be a UUID`);
        if (!NAME_RE.test(str(p, 'Name', where))) throw new Bad(`Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed (at most 128)`);
        str(p, 'Description', where);
        str(p, 'Rules', where);
        rulesFromDocument(p['Compiled']);
        if (!Array.isArray(p['Datacenters']) || !p['Datacenters'].every((d) => typeof d === 'string')) throw new Bad(`${where}: field 'Datacenters' must be an array of strings`);
        if (typeof cmd['create'] !== 'boolean') throw new Bad(`${where}: field 'create' must be a boolean`);
        break;
      }
      case 'aclRoleSet': {
        const r = cmd['role'];
        if (!isObj(r)) throw new Bad(`${where}: field 'role' must be an object`);
        if (!isUuid(str(r, 'ID', where))) throw new Bad(`${where}: role ID must be a UUID`);
        if (!NAME_RE.test(str(r, 'Name', where))) throw new Bad(`Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed (at most 128)`);
        str(r, 'Description', where);
        links(r, 'Policies', where);
        identities(r, where);
        if (typeof cmd['create'] !== 'boolean') throw new Bad(`${where}: field 'create' must be a boolean`);
        break;
      }
      case 'aclPolicyDelete':
      case 'aclRoleDelete':
        str(cmd, 'id', where);
        break;
      case 'aclTokenDelete':
        str(cmd, 'accessorId', where);
        break;
      default:
        throw new Bad(`unknown ACL command op ${JSON.stringify(op)}`);
    }
    return { ok: true, cmd: cmd as unknown as AclCommand };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, error: e.error };
    if (e instanceof RulesError) return { ok: false, error: `Invalid Policy: ${e.message}` };
    throw e;
  }
}
