// cli/commands/acl.ts — `consul acl bootstrap | policy | token | role …` (Consul 1.x).
//
// Owns: the subcommands' flags (-name -description -rules @file|-|text -valid-datacenter;
// -policy-id/-policy-name/-role-id/-role-name/-service-identity/-node-identity, repeatable;
// -id -self -secret -accessor -local -merge-* -format=json|pretty), the bodies they send to
// /v1/acl/*, and Consul's pretty output ("AccessorID:       …", "Policies:\n   ID - name", list
// entries, "Token \"…\" deleted successfully") and error wording.
// Must never: print a SecretID the agent did not send, or decide permissions (the servers do).
import {
  api,
  ApiError,
  commonQuery,
  guard,
  httpAddr,
  parseFlags,
  str,
  takeRepeatedFlag,
  UsageError,
  withQuery,
  type CliIo,
} from './common.ts';

const USAGE = `Usage: consul acl <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's ACLs.

    Bootstrap ACLs:            consul acl bootstrap
    Policies:                  consul acl policy create|list|read|update|delete
    Tokens:                    consul acl token create|list|read|update|clone|delete
    Roles:                     consul acl role create|list|read|update|delete

  Every subcommand takes -http-addr, -token (or CONSUL_HTTP_TOKEN) and -format=pretty|json.
`;

type Obj = Record<string, unknown>;
interface Link {
  ID?: string;
  Name?: string;
}

// ------------------------------------------------------------------ output

/** Go's time.Time %v for an RFC 3339 UTC stamp: "2024-01-02 10:00:00.5 +0000 UTC". */
function goTime(rfc: unknown): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(String(rfc ?? ''));
  if (!m) return String(rfc ?? '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac === '.' ? '' : frac} +0000 UTC`;
}

const links = (v: unknown): Link[] => (Array.isArray(v) ? (v as Link[]) : []);

function identities(o: Obj, indent: string): string {
  let out = '';
  const svc = Array.isArray(o['ServiceIdentities']) ? (o['ServiceIdentities'] as Obj[]) : [];
  if (svc.length) {
    out += `${indent}Service Identities:\n`;
    for (const s of svc) {
      const dcs = Array.isArray(s['Datacenters']) && s['Datacenters'].length ? (s['Datacenters'] as string[]).join(', ') : 'all';
      out += `${indent}   ${String(s['ServiceName'])} (Datacenters: ${dcs})\n`;
    }
  }
  const nodes = Array.isArray(o['NodeIdentities']) ? (o['NodeIdentities'] as Obj[]) : [];
  if (nodes.length) {
    out += `${indent}Node Identities:\n`;
    for (const n of nodes) out += `${indent}   ${String(n['NodeName'])} (Datacenter: ${String(n['Datacenter'])})\n`;
  }
  return out;
}

function linkLines(title: string, l: Link[], indent: string): string {
  if (!l.length) return '';
  return `${indent}${title}:\n${l.map((x) => `${indent}   ${x.ID ?? ''} - ${x.Name ?? ''}\n`).join('')}`;
}

export function formatToken(t: Obj, showMeta = false): string {
  let out = '';
  out += `AccessorID:       ${String(t['AccessorID'] ?? '')}\n`;
  out += `SecretID:         ${String(t['SecretID'] ?? '')}\n`;
  out += `Description:      ${String(t['Description'] ?? '')}\n`;
  out += `Local:            ${t['Local'] === true}\n`;
  out += `Create Time:      ${goTime(t['CreateTime'])}\n`;
  if (showMeta) {
    out += `Create Index:     ${String(t['CreateIndex'] ?? 0)}\n`;
    out += `Modify Index:     ${String(t['ModifyIndex'] ?? 0)}\n`;
  }
  out += linkLines('Policies', links(t['Policies']), '');
  out += linkLines('Roles', links(t['Roles']), '');
  out += identities(t, '');
  return out;
}

export function formatPolicy(p: Obj, showMeta = false): string {
  let out = '';
  out += `ID:           ${String(p['ID'] ?? '')}\n`;
  out += `Name:         ${String(p['Name'] ?? '')}\n`;
  out += `Description:  ${String(p['Description'] ?? '')}\n`;
  out += `Datacenters:  ${(Array.isArray(p['Datacenters']) ? (p['Datacenters'] as string[]) : []).join(', ')}\n`;
  if (showMeta) {
    out += `Create Index: ${String(p['CreateIndex'] ?? 0)}\n`;
    out += `Modify Index: ${String(p['ModifyIndex'] ?? 0)}\n`;
  }
  out += `Rules:\n${String(p['Rules'] ?? '')}\n`;
  return out;
}

function formatPolicyListEntry(p: Obj): string {
  return (
    `${String(p['Name'])}:\n` +
    `   ID:           ${String(p['ID'])}\n` +
    `   Description:  ${String(p['Description'] ?? '')}\n` +
    `   Datacenters:  ${(Array.isArray(p['Datacenters']) ? (p['Datacenters'] as string[]) : []).join(', ')}\n`
  );
}

export function formatRole(r: Obj, showMeta = false): string {
  let out = '';
  out += `ID:           ${String(r['ID'] ?? '')}\n`;
  out += `Name:         ${String(r['Name'] ?? '')}\n`;
  out += `Description:  ${String(r['Description'] ?? '')}\n`;
  if (showMeta) {
    out += `Create Index: ${String(r['CreateIndex'] ?? 0)}\n`;
    out += `Modify Index: ${String(r['ModifyIndex'] ?? 0)}\n`;
  }
  out += linkLines('Policies', links(r['Policies']), '');
  out += identities(r, '');
  return out;
}

function formatRoleListEntry(r: Obj): string {
  let out = `${String(r['Name'])}:\n   ID:           ${String(r['ID'])}\n   Description:  ${String(r['Description'] ?? '')}\n`;
  out += linkLines('Policies', links(r['Policies']), '   ');
  out += identities(r, '   ');
  return out;
}

// ------------------------------------------------------------------- plumbing

interface Ctx {
  io: CliIo;
  addr: string;
  q: string[];
  json: boolean;
  meta: boolean;
}

function context(io: CliIo, flags: Record<string, string | boolean>): Ctx {
  const format = str(flags, 'format', 'pretty');
  if (format !== 'pretty' && format !== 'json') throw new UsageError(`Invalid format: ${JSON.stringify(format)} (use pretty or json)`);
  return { io, addr: httpAddr(flags, io.env), q: commonQuery(flags), json: format === 'json', meta: flags['meta'] === true };
}

class Failed extends Error {}

/** One call that must answer 200 with JSON; otherwise `what: Unexpected response code: …`. */
async function call(c: Ctx, method: string, path: string, what: string, body?: unknown): Promise<unknown> {
  const r = await api(c.io, c.addr, method, withQuery(path, c.q), body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body)));
  if (r.status !== 200) throw new Failed(`${what}: ${new ApiError(r.status, r.text).message}`);
  return r.text === '' ? null : JSON.parse(r.text);
}

function show(c: Ctx, value: unknown, pretty: () => string): void {
  c.io.stdout(c.json ? `${JSON.stringify(value, null, 4)}\n` : pretty());
}

const COMMON = { format: 'string', meta: 'bool' } as const;

async function rulesArg(io: CliIo, v: string): Promise<string> {
  if (v.startsWith('@')) {
    if (!io.readFile) throw new UsageError('Reading files is not available here');
    try {
      return new TextDecoder().decode(await io.readFile(v.slice(1)));
    } catch (e) {
      throw new Failed(`Failed to read rules from ${v.slice(1)}: ${(e as Error).message}`);
    }
  }
  if (v === '-') {
    if (!io.readStdin) throw new UsageError('Reading stdin is not available here');
    return new TextDecoder().decode(await io.readStdin());
  }
  return v;
}

/** -service-identity web or web:dc1,dc2; -node-identity node:dc. */
function serviceIdentity(v: string): Obj {
  const [name, dcs] = v.split(':', 2) as [string, string | undefined];
  if (!name) throw new UsageError(`Malformed -service-identity argument: ${JSON.stringify(v)}`);
  return { ServiceName: name, ...(dcs ? { Datacenters: dcs.split(',').filter(Boolean) } : {}) };
}

function nodeIdentity(v: string): Obj {
  const [name, dc] = v.split(':', 2);
  if (!name || !dc) throw new UsageError(`Malformed -node-identity argument: ${JSON.stringify(v)} (use NODE:DATACENTER)`);
  return { NodeName: name, Datacenter: dc };
}

/** Pull every repeatable link flag out of args. */
function linkFlags(args: string[]): { rest: string[]; policies: Link[]; roles: Link[]; svc: Obj[]; nodes: Obj[]; any: boolean } {
  let rest = args;
  const take = (n: string): string[] => {
    const r = takeRepeatedFlag(rest, n);
    rest = r.rest;
    return r.values;
  };
  const pid = take('policy-id');
  const pname = take('policy-name');
  const rid = take('role-id');
  const rname = take('role-name');
  const svc = take('service-identity').map(serviceIdentity);
  const nodes = take('node-identity').map(nodeIdentity);
  const policies = [...pid.map((ID) => ({ ID })), ...pname.map((Name) => ({ Name }))];
  const roles = [...rid.map((ID) => ({ ID })), ...rname.map((Name) => ({ Name }))];
  return { rest, policies, roles, svc, nodes, any: policies.length + roles.length + svc.length + nodes.length > 0 };
}

function noArgs(rest: string[]): void {
  if (rest.length) throw new UsageError(`Too many arguments: ${rest.join(' ')}`);
}

/** -id X or -name Y → the policy/role, read by ID or by name. */
async function byIdOrName(c: Ctx, kind: 'policy' | 'role', id: string, name: string): Promise<Obj> {
  if (id === '' && name === '') throw new UsageError(`Must specify the -id or -name parameter`);
  const path = id !== '' ? `/v1/acl/${kind}/${encodeURIComponent(id)}` : `/v1/acl/${kind}/name/${encodeURIComponent(name)}`;
  return (await call(c, 'GET', path, `Error reading ${kind} ${JSON.stringify(id || name)}`)) as Obj;
}

// ------------------------------------------------------------------ commands

async function bootstrap(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, COMMON);
  noArgs(rest);
  const c = context(io, flags);
  const t = (await call(c, 'PUT', '/v1/acl/bootstrap', 'Failed ACL bootstrapping')) as Obj;
  show(c, t, () => formatToken(t, c.meta));
  return 0;
}

async function policy(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  const dcs = takeRepeatedFlag(args, 'valid-datacenter');
  const { flags, rest } = parseFlags(dcs.rest, { ...COMMON, id: 'string', name: 'string', description: 'string', rules: 'string', 'no-merge': 'bool' });
  noArgs(rest);
  const c = context(io, flags);
  switch (sub) {
    case 'create': {
      const name = str(flags, 'name');
      if (name === '') throw new UsageError('Missing required \'-name\' flag');
      const body = { Name: name, Description: str(flags, 'description'), Rules: await rulesArg(io, str(flags, 'rules')), Datacenters: dcs.values };
      const p = (await call(c, 'PUT', '/v1/acl/policy', 'Failed to create new policy', body)) as Obj;
      show(c, p, () => formatPolicy(p, c.meta));
      return 0;
    }
    case 'list': {
      const list = (await call(c, 'GET', '/v1/acl/policies', 'Failed to retrieve the policy list')) as Obj[];
      show(c, list, () => list.map(formatPolicyListEntry).join(''));
      return 0;
    }
    case 'read': {
      const p = await byIdOrName(c, 'policy', str(flags, 'id'), str(flags, 'name'));
      show(c, p, () => formatPolicy(p, c.meta));
      return 0;
    }
    case 'update': {
      if (str(flags, 'id') === '') throw new UsageError('Cannot update a policy without specifying the -id parameter');
      const old = await byIdOrName(c, 'policy', str(flags, 'id'), '');
      const body: Obj = {
        ID: old['ID'],
        Name: 'name' in flags ? str(flags, 'name') : old['Name'],
        Description: 'description' in flags ? str(flags, 'description') : old['Description'],
        Rules: 'rules' in flags ? await rulesArg(io, str(flags, 'rules')) : old['Rules'],
        Datacenters: dcs.values.length ? dcs.values : old['Datacenters'],
      };
      const p = (await call(c, 'PUT', `/v1/acl/policy/${encodeURIComponent(String(old['ID']))}`, `Error updating policy ${JSON.stringify(old['ID'])}`, body)) as Obj;
      show(c, p, () => formatPolicy(p, c.meta));
      return 0;
    }
    case 'delete': {
      const p = await byIdOrName(c, 'policy', str(flags, 'id'), str(flags, 'name'));
      await call(c, 'DELETE', `/v1/acl/policy/${encodeURIComponent(String(p['ID']))}`, `Error deleting policy ${JSON.stringify(p['ID'])}`);
      io.stdout(`Policy ${JSON.stringify(p['ID'])} deleted successfully\n`);
      return 0;
    }
    default:
      throw new UsageError(`Unknown subcommand: acl policy ${sub ?? ''}`.trimEnd());
  }
}

function mergeLinks(old: Link[], add: Link[]): Link[] {
  const out = [...old];
  for (const l of add) if (!out.some((o) => (l.ID && o.ID === l.ID) || (l.Name && o.Name === l.Name))) out.push(l);
  return out;
}

async function token(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  const lf = linkFlags(args);
  const { flags, rest } = parseFlags(lf.rest, {
    ...COMMON,
    id: 'string',
    self: 'bool',
    description: 'string',
    local: 'bool',
    secret: 'string',
    accessor: 'string',
    'merge-policies': 'bool',
    'merge-roles': 'bool',
    'merge-service-identities': 'bool',
    'merge-node-identities': 'bool',
    expanded: 'bool',
  });
  noArgs(rest);
  const c = context(io, flags);
  const withLinks = (base: Obj, old: Obj | null): Obj => {
    const pick = (key: string, add: unknown[], merge: boolean): unknown[] => {
      const was = old && Array.isArray(old[key]) ? (old[key] as unknown[]) : [];
      if (!add.length) return was;
      return merge ? (key === 'Policies' || key === 'Roles' ? mergeLinks(was as Link[], add as Link[]) : [...was, ...add]) : add;
    };
    return {
      ...base,
      Policies: pick('Policies', lf.policies, flags['merge-policies'] === true),
      Roles: pick('Roles', lf.roles, flags['merge-roles'] === true),
      ServiceIdentities: pick('ServiceIdentities', lf.svc, flags['merge-service-identities'] === true),
      NodeIdentities: pick('NodeIdentities', lf.nodes, flags['merge-node-identities'] === true),
    };
  };
  const needId = (what: string): string => {
    const id = str(flags, 'id');
    if (id === '') throw new UsageError(`Must specify the -id parameter${what}`);
    return id;
  };
  switch (sub) {
    case 'create': {
      const body = withLinks(
        {
          Description: str(flags, 'description'),
          Local: flags['local'] === true,
          ...(str(flags, 'secret') ? { SecretID: str(flags, 'secret') } : {}),
          ...(str(flags, 'accessor') ? { AccessorID: str(flags, 'accessor') } : {}),
        },
        null,
      );
      const t = (await call(c, 'PUT', '/v1/acl/token', 'Failed to create new token', body)) as Obj;
      show(c, t, () => formatToken(t, c.meta));
      return 0;
    }
    case 'list': {
      const list = (await call(c, 'GET', '/v1/acl/tokens', 'Failed to retrieve the token list')) as Obj[];
      show(c, list, () => list.map((t) => formatToken(t, c.meta)).join('\n'));
      return 0;
    }
    case 'read': {
      const self = flags['self'] === true;
      const path = self ? '/v1/acl/token/self' : `/v1/acl/token/${encodeURIComponent(needId(' or the -self flag'))}`;
      const t = (await call(c, 'GET', path, self ? 'Error reading token' : `Error reading token ${JSON.stringify(str(flags, 'id'))}`)) as Obj;
      show(c, t, () => formatToken(t, c.meta));
      return 0;
    }
    case 'update': {
      const id = needId('');
      const old = (await call(c, 'GET', `/v1/acl/token/${encodeURIComponent(id)}`, `Error when retrieving current token`)) as Obj;
      const body = withLinks({ AccessorID: id, Description: 'description' in flags ? str(flags, 'description') : old['Description'], Local: old['Local'] }, old);
      const t = (await call(c, 'PUT', `/v1/acl/token/${encodeURIComponent(id)}`, `Failed to update token ${id}`, body)) as Obj;
      show(c, t, () => formatToken(t, c.meta));
      return 0;
    }
    case 'clone': {
      const id = needId('');
      const old = (await call(c, 'GET', `/v1/acl/token/${encodeURIComponent(id)}`, `Error reading token ${JSON.stringify(id)}`)) as Obj;
      const body: Obj = {
        Description: 'description' in flags ? str(flags, 'description') : old['Description'],
        Local: old['Local'],
        Policies: old['Policies'] ?? [],
        Roles: old['Roles'] ?? [],
        ServiceIdentities: old['ServiceIdentities'] ?? [],
        NodeIdentities: old['NodeIdentities'] ?? [],
      };
      const t = (await call(c, 'PUT', '/v1/acl/token', 'Failed to clone token', body)) as Obj;
      show(c, t, () => formatToken(t, c.meta));
      return 0;
    }
    case 'delete': {
      const id = needId('');
      await call(c, 'DELETE', `/v1/acl/token/${encodeURIComponent(id)}`, `Error deleting token ${JSON.stringify(id)}`);
      io.stdout(`Token ${JSON.stringify(id)} deleted successfully\n`);
      return 0;
    }
    default:
      throw new UsageError(`Unknown subcommand: acl token ${sub ?? ''}`.trimEnd());
  }
}

async function role(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  const lf = linkFlags(args);
  const { flags, rest } = parseFlags(lf.rest, { ...COMMON, id: 'string', name: 'string', description: 'string', 'no-merge': 'bool' });
  noArgs(rest);
  const c = context(io, flags);
  switch (sub) {
    case 'create': {
      const name = str(flags, 'name');
      if (name === '') throw new UsageError('Missing required \'-name\' flag');
      if (!lf.policies.length && !lf.svc.length && !lf.nodes.length) throw new UsageError('Cannot create a role without specifying -policy-name, -policy-id, -service-identity or -node-identity at least once');
      const body = { Name: name, Description: str(flags, 'description'), Policies: lf.policies, ServiceIdentities: lf.svc, NodeIdentities: lf.nodes };
      const r = (await call(c, 'PUT', '/v1/acl/role', 'Failed to create new role', body)) as Obj;
      show(c, r, () => formatRole(r, c.meta));
      return 0;
    }
    case 'list': {
      const list = (await call(c, 'GET', '/v1/acl/roles', 'Failed to retrieve the role list')) as Obj[];
      show(c, list, () => list.map(formatRoleListEntry).join(''));
      return 0;
    }
    case 'read': {
      const r = await byIdOrName(c, 'role', str(flags, 'id'), str(flags, 'name'));
      show(c, r, () => formatRole(r, c.meta));
      return 0;
    }
    case 'update': {
      if (str(flags, 'id') === '') throw new UsageError('Cannot update a role without specifying the -id parameter');
      const old = await byIdOrName(c, 'role', str(flags, 'id'), '');
      // Consul merges the new links into the role's unless -no-merge.
      const replace = flags['no-merge'] === true;
      const list = (k: string, add: unknown[]): unknown[] => {
        const was = Array.isArray(old[k]) ? (old[k] as unknown[]) : [];
        if (replace) return add;
        return k === 'Policies' ? mergeLinks(was as Link[], add as Link[]) : [...was, ...add];
      };
      const body: Obj = {
        ID: old['ID'],
        Name: 'name' in flags ? str(flags, 'name') : old['Name'],
        Description: 'description' in flags ? str(flags, 'description') : old['Description'],
        Policies: list('Policies', lf.policies),
        ServiceIdentities: list('ServiceIdentities', lf.svc),
        NodeIdentities: list('NodeIdentities', lf.nodes),
      };
      const r = (await call(c, 'PUT', `/v1/acl/role/${encodeURIComponent(String(old['ID']))}`, `Failed to update role ${String(old['ID'])}`, body)) as Obj;
      show(c, r, () => formatRole(r, c.meta));
      return 0;
    }
    case 'delete': {
      const r = await byIdOrName(c, 'role', str(flags, 'id'), str(flags, 'name'));
      await call(c, 'DELETE', `/v1/acl/role/${encodeURIComponent(String(r['ID']))}`, `Error deleting role ${JSON.stringify(r['ID'])}`);
      io.stdout(`Role ${JSON.stringify(r['ID'])} deleted successfully\n`);
      return 0;
    }
    default:
      throw new UsageError(`Unknown subcommand: acl role ${sub ?? ''}`.trimEnd());
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [group, sub, ...rest] = args;
    try {
      switch (group) {
        case 'bootstrap':
          return await bootstrap(args.slice(1), io);
        case 'policy':
          return await policy(sub, rest, io);
        case 'token':
          return await token(sub, rest, io);
        case 'role':
          return await role(sub, rest, io);
        default:
          io.stderr(USAGE);
          return 1;
      }
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      io.stderr(`${e.message}\n`);
      return 1;
    }
  });
}
