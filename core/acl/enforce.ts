// core/acl/enforce.ts — ACLs at the servers: who the caller is, what a request needs, what a
// read may show.
//
// Owns: resolving a request's secret to an Authorizer on a server (initial management token,
// anonymous for no token, "ACL not found" for an unknown one), the permission every RPC and
// every catalog/KV/session/ACL command needs, filtering read results (with the
// filtered-by-ACLs mark), redacting secrets, and the identity a client agent caches.
// Must never: write anything itself, or let a denied request reach Raft: callers check before
// proposing, so a denied write changes nothing.
import { MANAGE_ALL, policyAuthorizer, type Authorizer } from './authorizer.ts';
import { ANONYMOUS_TOKEN_SECRET } from './commands.ts';
import type { AclConfig } from './config.ts';
import { isAclQuery, type AclQuery } from './queries.ts';
import { rulesFromDocument, rulesToDocument, type PolicyRules } from './rules.ts';
import type { AclState, AclToken } from './state.ts';
import type { Command, TxnOp } from '../catalog/commands.ts';
import type { CatalogNode, HealthCheck, KVEntry, ServiceInstance, Session } from '../catalog/types.ts';
import type { CatalogFSM } from '../catalog/fsm.ts';
import type { PreparedQuery, PreparedQueryDef, PreparedQueryExecution } from '../catalog/prepared-query.ts';
import type { Query, RpcRequest } from '../rpc/types.ts';

/** Consul's error strings (clients match them; HTTP maps both to 403). */
export const ERR_PERMISSION_DENIED = 'Permission denied';
export const ERR_ACL_NOT_FOUND = 'ACL not found';

/** What a token carries, as plain data: what a client agent asks the servers and caches. */
export interface ResolvedIdentity {
  accessorId: string;
  management: boolean;
  /** Consul JSON rule documents (rulesToDocument), merged by the receiver. */
  rules: Record<string, unknown>[];
}

export type Resolution = { ok: true; authz: Authorizer; identity: ResolvedIdentity; token: AclToken | null } | { ok: false; error: string };

/** The secret a request acts with: its own, else the agent's default token, else anonymous. */
export function effectiveSecret(secret: string | undefined, cfg: AclConfig): string {
  if (secret !== undefined && secret !== '') return secret;
  return cfg.tokens.default !== '' ? cfg.tokens.default : ANONYMOUS_TOKEN_SECRET;
}

export function authorizerOf(identity: ResolvedIdentity, cfg: AclConfig): Authorizer {
  if (identity.management) return MANAGE_ALL;
  return policyAuthorizer(identity.rules.map((d) => rulesFromDocument(d)), cfg.defaultPolicy);
}

/** On a server: the request's secret → its authorizer, from the replicated ACL tables. */
export function resolveOnServer(acl: AclState, cfg: AclConfig, secret: string | undefined): Resolution {
  const s = effectiveSecret(secret, cfg);
  if (cfg.tokens.initialManagement !== '' && s === cfg.tokens.initialManagement) {
    const token = acl.tokenBySecret(s) ?? null;
    return { ok: true, authz: MANAGE_ALL, identity: { accessorId: token?.AccessorID ?? '', management: true, rules: [] }, token };
  }
  const r = acl.resolveSecret(s);
  if (!r) return { ok: false, error: ERR_ACL_NOT_FOUND };
  const identity: ResolvedIdentity = { accessorId: r.token.AccessorID, management: r.management, rules: r.rules.map((x: PolicyRules) => rulesToDocument(x)) };
  return { ok: true, authz: authorizerOf(identity, cfg), identity, token: r.token };
}

// ------------------------------------------------------------------ writes

const deny = (what: string): string => `${ERR_PERMISSION_DENIED}: token lacks ${what}`;

/** node:write, or for a service check service:write on its service. */
function checkWriteError(authz: Authorizer, fsm: CatalogFSM, node: string, checkId: string): string | null {
  const ch = fsm.nodeChecks(node).find((c) => c.CheckID === checkId);
  if (ch && ch.ServiceID !== '') return authz.allowed('service', ch.ServiceName, 'write') ? null : deny(`service:write on "${ch.ServiceName}"`);
  return authz.allowed('node', node, 'write') ? null : deny(`node:write on "${node}"`);
}

const READ_VERBS = new Set(['get', 'get-tree', 'check-index', 'check-session', 'check-not-exists']);

/** One /v1/txn op: reads need read, the rest write, on what the op names (Consul's txn ACLs). */
function txnOpError(authz: Authorizer, fsm: CatalogFSM, op: TxnOp): string | null {
  if ('KV' in op) {
    const { Verb, Key } = op.KV;
    if (Verb === 'delete-tree') return authz.allowedPrefixWrite('key', Key) ? null : deny(`key:write on every key under "${Key}"`);
    const need = READ_VERBS.has(Verb) ? 'read' : 'write';
    return authz.allowed('key', Key, need) ? null : deny(`key:${need} on "${Key}"`);
  }
  if ('Node' in op) {
    const need = op.Node.Verb === 'get' ? 'read' : 'write';
    return authz.allowed('node', op.Node.Node.Node, need) ? null : deny(`node:${need} on "${op.Node.Node.Node}"`);
  }
  if ('Service' in op) {
    const need = op.Service.Verb === 'get' ? 'read' : 'write';
    const svc = op.Service.Service;
    const name = svc.Service ?? fsm.nodeServices(op.Service.Node).find((x) => x.ID === svc.ID)?.Service ?? svc.ID ?? '';
    return authz.allowed('service', name, need) ? null : deny(`service:${need} on "${name}"`);
  }
  const ch = op.Check.Check;
  if (op.Check.Verb === 'get') return authz.allowed('node', ch.Node, 'read') ? null : deny(`node:read on "${ch.Node}"`);
  return checkWriteError(authz, fsm, ch.Node, ch.CheckID ?? ch.Name ?? '');
}

/** Consul's GetACLPrefix: a named query or any template is guarded by query rules on its name;
 *  an unnamed plain query by none (reads of it are management-only, see filterValue). */
const queryAclPrefix = (q: PreparedQueryDef): string | null => (q.Name !== '' || q.Template.Type !== '' ? q.Name : null);

function queryWriteError(authz: Authorizer, q: PreparedQueryDef | undefined): string | null {
  const prefix = q ? queryAclPrefix(q) : null;
  return prefix === null || authz.allowed('query', prefix, 'write') ? null : deny(`query:write on "${prefix}"`);
}

function queryReadOk(authz: Authorizer, q: PreparedQuery): boolean {
  const prefix = queryAclPrefix(q);
  return prefix !== null && authz.allowed('query', prefix, 'read');
}

/** A query as a caller may see it: its Token only with acl:write (Consul's redaction). */
const redactQuery = (authz: Authorizer, q: PreparedQuery): PreparedQuery =>
  q.Token === '' || authz.allowedGlobal('acl', 'write') ? q : { ...q, Token: HIDDEN };

function txnError(authz: Authorizer, fsm: CatalogFSM, ops: readonly TxnOp[]): string | null {
  for (const op of ops) {
    const e = typeof op === 'object' && op !== null ? txnOpError(authz, fsm, op) : null;
    if (e) return e;
  }
  return null;
}

/** The first permission a command needs and the token lacks, or null when it may run. */
export function commandError(authz: Authorizer, fsm: CatalogFSM, cmd: Command | { op: string }): string | null {
  if (authz.management) return null;
  const c = cmd as Command;
  switch (c.op) {
    case 'register': {
      const node = fsm.node(c.node.Node);
      // Re-registering a node as it is (anti-entropy of a service) needs no node:write.
      const nodeChanges = !node || node.Address !== c.node.Address;
      if (nodeChanges && !authz.allowed('node', c.node.Node, 'write')) return deny(`node:write on "${c.node.Node}"`);
      if (c.service && !authz.allowed('service', c.service.Service, 'write')) return deny(`service:write on "${c.service.Service}"`);
      for (const ch of c.checks ?? []) {
        const sid = ch.ServiceID ?? '';
        if (sid === '') {
          if (!authz.allowed('node', c.node.Node, 'write')) return deny(`node:write on "${c.node.Node}"`);
          continue;
        }
        const name = c.service && (c.service.ID || c.service.Service) === sid ? c.service.Service : fsm.nodeServices(c.node.Node).find((x) => x.ID === sid)?.Service;
        if (name !== undefined && !authz.allowed('service', name, 'write')) return deny(`service:write on "${name}"`);
      }
      return null;
    }
    case 'deregister': {
      if (c.serviceId) {
        const svc = fsm.nodeServices(c.node).find((s) => s.ID === c.serviceId);
        if (svc) return authz.allowed('service', svc.Service, 'write') ? null : deny(`service:write on "${svc.Service}"`);
        return authz.allowed('node', c.node, 'write') ? null : deny(`node:write on "${c.node}"`);
      }
      if (c.checkId) return checkWriteError(authz, fsm, c.node, c.checkId);
      return authz.allowed('node', c.node, 'write') ? null : deny(`node:write on "${c.node}"`);
    }
    case 'updateCheckStatus':
      return checkWriteError(authz, fsm, c.node, c.checkId);
    case 'kvSet':
    case 'kvCas':
    case 'kvLock':
    case 'kvUnlock':
      return authz.allowed('key', c.key, 'write') ? null : deny(`key:write on "${c.key}"`);
    case 'kvDelete':
      if (c.recurse && c.casIndex === undefined) return authz.allowedPrefixWrite('key', c.key) ? null : deny(`key:write on every key under "${c.key}"`);
      return authz.allowed('key', c.key, 'write') ? null : deny(`key:write on "${c.key}"`);
    case 'kvDeleteTree':
      return authz.allowedPrefixWrite('key', c.prefix) ? null : deny(`key:write on every key under "${c.prefix}"`);
    case 'sessionCreate':
      return authz.allowed('session', c.node, 'write') ? null : deny(`session:write on "${c.node}"`);
    case 'sessionDestroy': {
      const s = fsm.sessionGet(c.id);
      return !s || authz.allowed('session', s.Node, 'write') ? null : deny(`session:write on "${s.Node}"`);
    }
    case 'txn':
      return txnError(authz, fsm, c.ops);
    case 'restore':
      return deny('management (snapshot restore)');
    case 'preparedQuerySet':
      return queryWriteError(authz, c.query) ?? (c.create ? null : queryWriteError(authz, fsm.preparedQueryGet(c.query.ID)));
    case 'preparedQueryDelete':
      return queryWriteError(authz, fsm.preparedQueryGet(c.id));
    case 'kvReapTombstones':
    case 'sessionInvalidate':
      // Server housekeeping: the leader proposes these itself, never on a caller's behalf.
      return deny('management (server housekeeping command)');
    default: {
      const op = (cmd as { op: unknown }).op;
      if (op === 'aclBootstrap') return null;
      if (typeof op === 'string' && op.startsWith('acl')) return authz.allowedGlobal('acl', 'write') ? null : deny('acl:write');
      return null;
    }
  }
}

/** The permission an RPC needs before it runs (reads are filtered instead, except a KV get). */
export function rpcError(authz: Authorizer, fsm: CatalogFSM, req: RpcRequest): string | null {
  switch (req.type) {
    case 'write':
      return commandError(authz, fsm, req.command as Command);
    case 'raftConfiguration':
      return authz.allowedGlobal('operator', 'read') ? null : deny('operator:read');
    case 'raftRemovePeer':
      return authz.allowedGlobal('operator', 'write') ? null : deny('operator:write');
    case 'sessionRenew': {
      const s = fsm.sessionGet(req.id);
      return !s || authz.allowed('session', s.Node, 'write') ? null : deny(`session:write on "${s.Node}"`);
    }
    case 'read':
      return readError(authz, fsm, req.query);
    default:
      return null;
  }
}

function readError(authz: Authorizer, fsm: CatalogFSM, q: Query): string | null {
  if (q.q === 'kvGet') return authz.allowed('key', q.key, 'read') ? null : deny(`key:read on "${q.key}"`);
  if (q.q === 'txnRead') return txnError(authz, fsm, q.ops);
  if (q.q === 'snapshot') return authz.management ? null : deny('management (snapshot save)');
  if (q.q === 'preparedQueryGet' || q.q === 'preparedQueryExplain') {
    // Consul answers a query the caller may not read with "Permission denied", not "not found".
    const found = q.q === 'preparedQueryGet' ? fsm.preparedQueryGet(q.id) : fsm.preparedQueryResolve(q.idOrName);
    const query = found === undefined ? undefined : 'ok' in found ? (found.ok ? found.query : undefined) : found;
    if (query && !authz.management && !queryReadOk(authz, query)) return deny(`query:read on "${query.Name}"`);
  }
  if (isAclQuery(q) && q.q !== 'aclTokenSelf') return authz.allowedGlobal('acl', 'read') ? null : deny('acl:read');
  return null;
}

// ------------------------------------------------------------------- reads

const HIDDEN = '<hidden>';

/** Token records as a caller may see them: secrets only for acl:write. */
export function redactToken(authz: Authorizer, t: AclToken): AclToken {
  return authz.allowedGlobal('acl', 'write') ? t : { ...t, SecretID: HIDDEN };
}

function nodeOk(authz: Authorizer, n: string): boolean {
  return authz.allowed('node', n, 'read');
}

function checkOk(authz: Authorizer, c: HealthCheck): boolean {
  return nodeOk(authz, c.Node) && (c.ServiceName === '' || authz.allowed('service', c.ServiceName, 'read'));
}

/** A read's value with what the caller may not see left out; `filtered` when anything was. */
export function filterValue(authz: Authorizer, query: Query, value: unknown, self: AclToken | null): { value: unknown; filtered: boolean } {
  if (authz.management) {
    if (query.q === 'aclTokenSelf') return { value: self, filtered: false };
    return { value, filtered: false };
  }
  let filtered = false;
  const keep = <T>(list: T[], ok: (x: T) => boolean): T[] => {
    const out = list.filter(ok);
    if (out.length !== list.length) filtered = true;
    return out;
  };
  let v: unknown = value;
  switch (query.q) {
    case 'kvList':
      v = keep(value as KVEntry[], (e) => authz.allowed('key', e.Key, 'read'));
      break;
    case 'kvKeys':
      v = keep(value as string[], (k) => authz.allowed('key', k, 'read'));
      break;
    case 'catalogNodes':
      v = keep(value as CatalogNode[], (n) => nodeOk(authz, n.Node));
      break;
    case 'catalogNode': {
      const r = value as { Node: CatalogNode; Services: { Service: string }[] } | null;
      if (r && !nodeOk(authz, r.Node.Node)) {
        v = null;
        filtered = true;
      } else if (r) v = { ...r, Services: keep(r.Services, (s) => authz.allowed('service', s.Service, 'read')) };
      break;
    }
    case 'catalogServices': {
      const out: Record<string, string[]> = {};
      for (const [name, tags] of Object.entries(value as Record<string, string[]>)) {
        if (authz.allowed('service', name, 'read')) out[name] = tags;
        else filtered = true;
      }
      v = out;
      break;
    }
    case 'catalogService':
    case 'healthService':
      v = keep(value as ServiceInstance[], (i) => authz.allowed('service', i.Service.Service, 'read') && nodeOk(authz, i.Node.Node));
      break;
    case 'healthNode':
    case 'healthChecks':
    case 'healthState':
      v = keep(value as HealthCheck[], (c) => checkOk(authz, c));
      break;
    case 'sessionInfo':
    case 'sessionList':
    case 'sessionNode':
      v = keep(value as Session[], (s) => authz.allowed('session', s.Node, 'read'));
      break;
    case 'aclTokenSelf':
      v = self;
      break;
    case 'preparedQueryList':
      v = keep(value as PreparedQuery[], (q) => queryReadOk(authz, q)).map((q) => redactQuery(authz, q));
      break;
    case 'preparedQueryGet':
      v = value === null ? null : redactQuery(authz, value as PreparedQuery);
      break;
    case 'preparedQueryExplain': {
      const r = value as { Query?: PreparedQuery };
      v = r.Query ? { Query: redactQuery(authz, r.Query) } : r;
      break;
    }
    case 'preparedQueryExecute': {
      // The caller's token filters the instances (a query's stored Token is not used yet).
      const r = value as PreparedQueryExecution | { Error: string } | null;
      if (r && 'Nodes' in r) {
        v = { ...r, Nodes: keep(r.Nodes, (i) => authz.allowed('service', i.Service.Service, 'read') && nodeOk(authz, i.Node.Node)) };
      }
      break;
    }
    case 'aclTokenRead':
      v = value === null ? null : redactToken(authz, value as AclToken);
      break;
    case 'aclTokenList':
      v = (value as AclToken[]).map((t) => redactToken(authz, t));
      break;
    default:
      break;
  }
  return { value: v, filtered };
}
