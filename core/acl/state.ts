// core/acl/state.ts — the replicated ACL tables: policies, tokens, roles, the bootstrap mark.
//
// Owns: applying ACL commands (the catalog FSM hands them over from its dispatch), the records
// as the API shows them (Consul's field names), name→ID link resolution at apply time, the
// built-in global-management policy and anonymous token, resolving a secret to the rules it
// carries, and the ACL part of a catalog snapshot.
// Must never: read a clock or draw randomness (IDs and times come in commands), iterate a Map
// in insertion order where replicas could differ, or throw on a command from the log.
import {
  ANONYMOUS_TOKEN_ID,
  ANONYMOUS_TOKEN_SECRET,
  GLOBAL_MANAGEMENT_POLICY_ID,
  GLOBAL_MANAGEMENT_POLICY_NAME,
  validateAclCommand,
  type AclCommand,
  type Link,
  type NodeIdentity,
  type PolicySpec,
  type RoleSpec,
  type ServiceIdentity,
  type TokenSpec,
} from './commands.ts';
import { rulesFromDocument, rulesToDocument, emptyRules, type PolicyRules } from './rules.ts';
import { formatTimestamp } from '../runtime/log-format.ts';

export interface PolicyLink {
  ID: string;
  Name: string;
}

export interface AclPolicy {
  ID: string;
  Name: string;
  Description: string;
  Rules: string;
  Datacenters: string[];
  CreateIndex: number;
  ModifyIndex: number;
}

export interface AclToken {
  AccessorID: string;
  SecretID: string;
  Description: string;
  Policies: PolicyLink[];
  Roles: PolicyLink[];
  ServiceIdentities: ServiceIdentity[];
  NodeIdentities: NodeIdentity[];
  Local: boolean;
  CreateTime: string;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface AclRole {
  ID: string;
  Name: string;
  Description: string;
  Policies: PolicyLink[];
  ServiceIdentities: ServiceIdentity[];
  NodeIdentities: NodeIdentity[];
  CreateIndex: number;
  ModifyIndex: number;
}

export type AclApplyResult = { ok: true; value: unknown } | { ok: false; error: string };

/** What a secret carries: the token record, and its rules (management tokens skip rules). */
export interface ResolvedToken {
  token: AclToken;
  management: boolean;
  rules: PolicyRules[];
}

const by = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 3339 in UTC from epoch ms (the civil date maths lives in log-format.ts). */
export function rfc3339(ms: number): string {
  const t = formatTimestamp(ms);
  return `${t.slice(0, 10).replace(/\//g, '-')}T${t.slice(11)}Z`;
}

const BUILTIN_MANAGEMENT: AclPolicy = {
  ID: GLOBAL_MANAGEMENT_POLICY_ID,
  Name: GLOBAL_MANAGEMENT_POLICY_NAME,
  Description: 'Builtin Policy that grants unlimited access',
  Rules: '',
  Datacenters: [],
  CreateIndex: 0,
  ModifyIndex: 0,
};

const BUILTIN_ANONYMOUS: AclToken = {
  AccessorID: ANONYMOUS_TOKEN_ID,
  SecretID: ANONYMOUS_TOKEN_SECRET,
  Description: 'Anonymous Token',
  Policies: [],
  Roles: [],
  ServiceIdentities: [],
  NodeIdentities: [],
  Local: false,
  CreateTime: rfc3339(0),
  CreateIndex: 0,
  ModifyIndex: 0,
};

/** The rules a service identity stands for (Consul's synthetic policy). */
function serviceIdentityRules(s: ServiceIdentity): PolicyRules {
  return rulesFromDocument({
    service: { [s.ServiceName]: { policy: 'write' }, [`${s.ServiceName}-sidecar-proxy`]: { policy: 'write' } },
    service_prefix: { '': { policy: 'read' } },
    node_prefix: { '': { policy: 'read' } },
  });
}

function nodeIdentityRules(n: NodeIdentity): PolicyRules {
  return rulesFromDocument({ node: { [n.NodeName]: { policy: 'write' } }, service_prefix: { '': { policy: 'read' } } });
}

class Rejected {
  constructor(readonly error: string) {}
}

export class AclState {
  /** Raft index of the last ACL write (the X-Consul-Index of ACL reads). */
  index = 0;
  /** Raft index of the bootstrap, 0 while bootstrap is still allowed. */
  bootstrapIndex = 0;
  private readonly policies = new Map<string, AclPolicy>();
  private readonly compiled = new Map<string, PolicyRules>();
  private readonly tokens = new Map<string, AclToken>();
  private readonly bySecret = new Map<string, string>();
  private readonly roles = new Map<string, AclRole>();

  isEmpty(): boolean {
    return this.index === 0 && this.bootstrapIndex === 0 && this.policies.size === 0 && this.tokens.size === 0 && this.roles.size === 0;
  }

  // ---------------------------------------------------------------- apply

  apply(index: number, cmd: unknown): AclApplyResult {
    const v = validateAclCommand(cmd);
    if (!v.ok) return v;
    try {
      const value = this.dispatch(index, v.cmd);
      this.index = index;
      return { ok: true, value };
    } catch (e) {
      if (e instanceof Rejected) return { ok: false, error: e.error };
      throw e;
    }
  }

  private dispatch(index: number, c: AclCommand): unknown {
    switch (c.op) {
      case 'aclBootstrap':
        if (this.bootstrapIndex !== 0) throw new Rejected(`Permission denied: ACL bootstrap no longer allowed (reset index: ${this.bootstrapIndex})`);
        this.bootstrapIndex = index;
        return this.putToken(index, c.nowMs, { ...c.token, Policies: [{ ID: GLOBAL_MANAGEMENT_POLICY_ID }] }, true);
      case 'aclTokenSet':
        return this.putToken(index, c.nowMs, c.token, c.create);
      case 'aclTokenDelete': {
        if (c.accessorId === ANONYMOUS_TOKEN_ID) throw new Rejected('Delete operation not permitted on the anonymous token');
        const t = this.tokens.get(c.accessorId);
        if (t) {
          this.tokens.delete(c.accessorId);
          this.bySecret.delete(t.SecretID);
        }
        return true;
      }
      case 'aclPolicySet':
        return this.putPolicy(index, c.policy, c.create);
      case 'aclPolicyDelete':
        if (c.id === GLOBAL_MANAGEMENT_POLICY_ID) throw new Rejected('Delete operation not permitted on the builtin global-management policy');
        this.policies.delete(c.id);
        this.compiled.delete(c.id);
        return true;
      case 'aclRoleSet':
        return this.putRole(index, c.role, c.create);
      case 'aclRoleDelete':
        this.roles.delete(c.id);
        return true;
    }
  }

  /** Links as given (ID or Name) → {ID, Name} of records that exist, deduplicated. */
  private resolveLinks(links: Link[], kind: 'policy' | 'role'): PolicyLink[] {
    const byId = (id: string) => (kind === 'policy' ? this.policy(id) : this.roles.get(id));
    const byName = (name: string) => (kind === 'policy' ? this.policyByName(name) : this.roleByName(name));
    const out: PolicyLink[] = [];
    for (const l of links) {
      const rec = l.ID !== undefined && l.ID !== '' ? byId(l.ID) : byName(l.Name ?? '');
      if (!rec) throw new Rejected(l.ID ? `cannot find ${kind} ${l.ID}` : `cannot find ${kind} named "${l.Name ?? ''}"`);
      if (!out.some((x) => x.ID === rec.ID)) out.push({ ID: rec.ID, Name: rec.Name });
    }
    return out;
  }

  private putToken(index: number, nowMs: number, given: TokenSpec, create: boolean): AclToken {
    const old = this.token(given.AccessorID);
    const spec = given.SecretID === '' && old ? { ...given, SecretID: old.SecretID } : given;
    if (spec.SecretID === '') throw new Rejected(`Cannot find token ${spec.AccessorID}`);
    if (create && this.tokens.has(spec.AccessorID)) throw new Rejected(`Invalid Token: AccessorID is already in use`);
    if (!create && !old) throw new Rejected(`Cannot find token ${spec.AccessorID}`);
    const holder = this.bySecret.get(spec.SecretID);
    if (holder !== undefined && holder !== spec.AccessorID) throw new Rejected('Invalid Token: SecretID is already in use');
    if (old && old.SecretID !== spec.SecretID) throw new Rejected('Cannot change a token\'s SecretID');
    if (spec.AccessorID === ANONYMOUS_TOKEN_ID && spec.SecretID !== ANONYMOUS_TOKEN_SECRET) throw new Rejected('Cannot change the anonymous token\'s SecretID');
    const token: AclToken = {
      AccessorID: spec.AccessorID,
      SecretID: spec.SecretID,
      Description: spec.Description,
      Policies: this.resolveLinks(spec.Policies, 'policy'),
      Roles: this.resolveLinks(spec.Roles, 'role'),
      ServiceIdentities: spec.ServiceIdentities.map((s) => ({ ServiceName: s.ServiceName, ...(s.Datacenters ? { Datacenters: [...s.Datacenters] } : {}) })),
      NodeIdentities: spec.NodeIdentities.map((n) => ({ NodeName: n.NodeName, Datacenter: n.Datacenter })),
      Local: spec.Local,
      CreateTime: old?.CreateTime ?? rfc3339(nowMs),
      CreateIndex: old && old.CreateIndex !== 0 ? old.CreateIndex : index,
      ModifyIndex: index,
    };
    this.tokens.set(token.AccessorID, token);
    this.bySecret.set(token.SecretID, token.AccessorID);
    return token;
  }

  private putPolicy(index: number, spec: PolicySpec, create: boolean): AclPolicy {
    const old = this.policy(spec.ID);
    if (create && old) throw new Rejected('Invalid Policy: ID is already in use');
    if (!create && !old) throw new Rejected(`cannot find policy ${spec.ID}`);
    if (spec.ID === GLOBAL_MANAGEMENT_POLICY_ID) {
      if (spec.Name !== GLOBAL_MANAGEMENT_POLICY_NAME) throw new Rejected('Changing the Name of the builtin global-management policy is not permitted');
      if (spec.Rules.trim() !== '') throw new Rejected('Changing the Rules of the builtin global-management policy is not permitted');
    }
    const clash = this.policyByName(spec.Name);
    if (clash && clash.ID !== spec.ID) throw new Rejected(`Invalid Policy: A Policy with Name "${spec.Name}" already exists`);
    const p: AclPolicy = {
      ID: spec.ID,
      Name: spec.Name,
      Description: spec.Description,
      Rules: spec.Rules,
      Datacenters: [...spec.Datacenters],
      CreateIndex: old && old.CreateIndex !== 0 ? old.CreateIndex : index,
      ModifyIndex: index,
    };
    this.policies.set(p.ID, p);
    this.compiled.set(p.ID, rulesFromDocument(spec.Compiled));
    // Links show names; keep them current after a rename.
    for (const t of this.tokens.values()) for (const l of t.Policies) if (l.ID === p.ID) l.Name = p.Name;
    for (const r of this.roles.values()) for (const l of r.Policies) if (l.ID === p.ID) l.Name = p.Name;
    return p;
  }

  private putRole(index: number, spec: RoleSpec, create: boolean): AclRole {
    const old = this.roles.get(spec.ID);
    if (create && old) throw new Rejected('Invalid Role: ID is already in use');
    if (!create && !old) throw new Rejected(`cannot find role ${spec.ID}`);
    const clash = this.roleByName(spec.Name);
    if (clash && clash.ID !== spec.ID) throw new Rejected(`Invalid Role: A Role with Name "${spec.Name}" already exists`);
    const r: AclRole = {
      ID: spec.ID,
      Name: spec.Name,
      Description: spec.Description,
      Policies: this.resolveLinks(spec.Policies, 'policy'),
      ServiceIdentities: spec.ServiceIdentities.map((s) => ({ ServiceName: s.ServiceName, ...(s.Datacenters ? { Datacenters: [...s.Datacenters] } : {}) })),
      NodeIdentities: spec.NodeIdentities.map((n) => ({ NodeName: n.NodeName, Datacenter: n.Datacenter })),
      CreateIndex: old?.CreateIndex ?? index,
      ModifyIndex: index,
    };
    this.roles.set(r.ID, r);
    for (const t of this.tokens.values()) for (const l of t.Roles) if (l.ID === r.ID) l.Name = r.Name;
    return r;
  }

  // ---------------------------------------------------------------- reads

  policy(id: string): AclPolicy | undefined {
    return this.policies.get(id) ?? (id === GLOBAL_MANAGEMENT_POLICY_ID ? BUILTIN_MANAGEMENT : undefined);
  }

  policyByName(name: string): AclPolicy | undefined {
    return this.policyList().find((p) => p.Name === name);
  }

  policyList(): AclPolicy[] {
    const all = new Map(this.policies);
    if (!all.has(GLOBAL_MANAGEMENT_POLICY_ID)) all.set(GLOBAL_MANAGEMENT_POLICY_ID, BUILTIN_MANAGEMENT);
    return [...all.keys()].sort(by).map((k) => all.get(k)!);
  }

  /** Tokens as stored: dangling links (a deleted policy or role) are dropped, as Consul shows them. */
  token(accessorId: string): AclToken | undefined {
    const t = this.tokens.get(accessorId) ?? (accessorId === ANONYMOUS_TOKEN_ID ? BUILTIN_ANONYMOUS : undefined);
    if (!t) return undefined;
    return { ...t, Policies: t.Policies.filter((l) => this.policy(l.ID)), Roles: t.Roles.filter((l) => this.roles.has(l.ID)) };
  }

  tokenBySecret(secret: string): AclToken | undefined {
    if (secret === ANONYMOUS_TOKEN_SECRET) return this.token(ANONYMOUS_TOKEN_ID);
    const id = this.bySecret.get(secret);
    return id === undefined ? undefined : this.token(id);
  }

  tokenList(): AclToken[] {
    const ids = new Set([...this.tokens.keys(), ANONYMOUS_TOKEN_ID]);
    return [...ids].sort(by).map((id) => this.token(id)!);
  }

  role(id: string): AclRole | undefined {
    const r = this.roles.get(id);
    return r ? { ...r, Policies: r.Policies.filter((l) => this.policy(l.ID)) } : undefined;
  }

  roleByName(name: string): AclRole | undefined {
    return this.roleList().find((r) => r.Name === name);
  }

  roleList(): AclRole[] {
    return [...this.roles.keys()].sort(by).map((id) => this.role(id)!);
  }

  /** The rules a token carries: its policies, its roles' policies, and its identities. */
  resolveToken(token: AclToken): ResolvedToken {
    const policyIds = new Set(token.Policies.map((l) => l.ID));
    const services = [...token.ServiceIdentities];
    const nodes = [...token.NodeIdentities];
    for (const rl of token.Roles) {
      const r = this.role(rl.ID);
      if (!r) continue;
      for (const l of r.Policies) policyIds.add(l.ID);
      services.push(...r.ServiceIdentities);
      nodes.push(...r.NodeIdentities);
    }
    if (policyIds.has(GLOBAL_MANAGEMENT_POLICY_ID)) return { token, management: true, rules: [] };
    const rules: PolicyRules[] = [];
    for (const id of [...policyIds].sort(by)) rules.push(this.compiled.get(id) ?? emptyRules());
    for (const s of services) rules.push(serviceIdentityRules(s));
    for (const n of nodes) rules.push(nodeIdentityRules(n));
    return { token, management: false, rules };
  }

  /** A secret → what it carries, or null when no token has it ("ACL not found"). */
  resolveSecret(secret: string): ResolvedToken | null {
    const t = this.tokenBySecret(secret);
    return t ? this.resolveToken(t) : null;
  }

  // ------------------------------------------------------------- snapshot

  /** Plain data for the catalog snapshot, in sorted order so equal states give equal bytes. */
  toSnapshot(): unknown {
    const sorted = <V>(m: Map<string, V>): V[] => [...m.keys()].sort(by).map((k) => m.get(k)!);
    return {
      index: this.index,
      bootstrapIndex: this.bootstrapIndex,
      policies: sorted(this.policies).map((p) => ({ ...p, Compiled: rulesToDocument(this.compiled.get(p.ID)!) })),
      tokens: sorted(this.tokens),
      roles: sorted(this.roles),
    };
  }

  static fromSnapshot(doc: unknown): AclState {
    const fail = (what: string): never => {
      throw new Error(`catalog snapshot: acl.${what}; the snapshot is corrupt or from another program — take a new snapshot from a healthy server`);
    };
    const s = new AclState();
    if (typeof doc !== 'object' || doc === null) fail('expected an object');
    const o = doc as Record<string, unknown>;
    const uint = (f: string): number => (typeof o[f] === 'number' && Number.isSafeInteger(o[f]) && (o[f] as number) >= 0 ? (o[f] as number) : fail(`${f}: expected a non-negative integer`));
    const arr = (f: string): Record<string, unknown>[] => (Array.isArray(o[f]) && (o[f] as unknown[]).every((x) => typeof x === 'object' && x !== null) ? (o[f] as Record<string, unknown>[]) : fail(`${f}: expected an array of objects`));
    s.index = uint('index');
    s.bootstrapIndex = uint('bootstrapIndex');
    for (const p of arr('policies')) {
      const { Compiled, ...policy } = p;
      if (typeof policy['ID'] !== 'string' || typeof policy['Name'] !== 'string') fail('policies: ID and Name must be strings');
      try {
        s.compiled.set(policy['ID'] as string, rulesFromDocument(Compiled));
      } catch (e) {
        fail(`policies[${String(policy['Name'])}].Compiled: ${(e as Error).message}`);
      }
      s.policies.set(policy['ID'] as string, policy as unknown as AclPolicy);
    }
    for (const t of arr('tokens')) {
      if (typeof t['AccessorID'] !== 'string' || typeof t['SecretID'] !== 'string' || !Array.isArray(t['Policies']) || !Array.isArray(t['Roles'])) fail('tokens: bad token record');
      s.tokens.set(t['AccessorID'] as string, t as unknown as AclToken);
      s.bySecret.set(t['SecretID'] as string, t['AccessorID'] as string);
    }
    for (const r of arr('roles')) {
      if (typeof r['ID'] !== 'string' || typeof r['Name'] !== 'string' || !Array.isArray(r['Policies'])) fail('roles: bad role record');
      s.roles.set(r['ID'] as string, r as unknown as AclRole);
    }
    return s;
  }
}
