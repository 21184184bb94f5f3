// core/acl/authorizer.ts — answers "may this token do that?" from its merged policy rules.
//
// Owns: merging several policies into one rule set (Consul's precedence: deny > write > list >
// read for the same rule), the lookup order (an exact rule beats any prefix rule; among prefix
// rules the longest wins; nothing matching falls to the default), prefix-wide writes (a
// recursive delete needs write on the prefix and no weaker rule beneath it), and the
// management / allow-all / deny-all authorizers.
// Must never: look at tokens or state (resolve.ts does), or let `default_policy = allow` grant
// ACL management (Consul keeps acl:write for management tokens and `acl = "write"` rules).
import { GLOBAL_RESOURCES, RESOURCES, type Access, type GlobalResource, type PolicyRules, type Resource, type Rule } from './rules.ts';

export type Need = 'read' | 'list' | 'write';

export interface Authorizer {
  /** Access to one named thing (a key, a service, a node…). */
  allowed(resource: Resource, name: string, need: Need): boolean;
  /** Write on every name under `prefix` (KV recursive delete). */
  allowedPrefixWrite(resource: Resource, prefix: string): boolean;
  allowedGlobal(resource: GlobalResource, need: Need): boolean;
  /** Management tokens may do anything, including ACL administration. */
  readonly management: boolean;
}

const RANK: Record<Access, number> = { read: 1, list: 2, write: 3, deny: 4 };

/** Consul's policy merger: for the same rule the stronger word wins, and deny is strongest. */
export function strongerAccess(a: Access, b: Access): Access {
  return RANK[a] >= RANK[b] ? a : b;
}

export function grants(access: Access, need: Need): boolean {
  switch (need) {
    case 'read':
      return access === 'read' || access === 'list' || access === 'write';
    case 'list':
      return access === 'list' || access === 'write';
    case 'write':
      return access === 'write';
  }
}

/** Several policies' rules as one: same (resource, name, prefix) merged by strongerAccess. */
export function mergeRules(all: readonly PolicyRules[]): PolicyRules {
  const named = {} as Record<Resource, Rule[]>;
  for (const r of RESOURCES) {
    const byKey = new Map<string, Rule>();
    for (const p of all) {
      for (const rule of p.named[r]) {
        const k = `${rule.prefix ? 'p' : 'e'}:${rule.name}`;
        const old = byKey.get(k);
        byKey.set(k, old ? { ...old, access: strongerAccess(old.access, rule.access) } : { ...rule });
      }
    }
    named[r] = [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }
  const global: Partial<Record<GlobalResource, Access>> = {};
  for (const g of GLOBAL_RESOURCES) {
    for (const p of all) {
      const a = p.global[g];
      if (a !== undefined) global[g] = global[g] === undefined ? a : strongerAccess(global[g]!, a);
    }
  }
  return { named, global };
}

/** Per resource: exact rules by name, prefix rules sorted longest first. */
interface Index {
  exact: Map<string, Access>;
  prefixes: Rule[];
}

class PolicyAuthorizer implements Authorizer {
  readonly management = false;
  private readonly index = new Map<Resource, Index>();

  constructor(
    private readonly rules: PolicyRules,
    /** What answers when no rule matches: the default policy (an allow-all or deny-all). */
    private readonly parent: Authorizer,
  ) {
    for (const r of RESOURCES) {
      const exact = new Map<string, Access>();
      const prefixes: Rule[] = [];
      for (const rule of rules.named[r]) (rule.prefix ? prefixes.push(rule) : exact.set(rule.name, rule.access));
      prefixes.sort((a, b) => b.name.length - a.name.length);
      this.index.set(r, { exact, prefixes });
    }
  }

  /** The rule deciding `name`, or undefined when none matches. */
  private decidingAccess(resource: Resource, name: string): Access | undefined {
    const ix = this.index.get(resource)!;
    const exact = ix.exact.get(name);
    if (exact !== undefined) return exact;
    for (const p of ix.prefixes) if (name.startsWith(p.name)) return p.access;
    return undefined;
  }

  allowed(resource: Resource, name: string, need: Need): boolean {
    const a = this.decidingAccess(resource, name);
    return a === undefined ? this.parent.allowed(resource, name, need) : grants(a, need);
  }

  allowedPrefixWrite(resource: Resource, prefix: string): boolean {
    if (!this.allowed(resource, prefix, 'write')) return false;
    // Any rule for a name below the prefix that does not grant write blocks the whole delete.
    return this.rules.named[resource].every((rule) => !rule.name.startsWith(prefix) || rule.access === 'write');
  }

  allowedGlobal(resource: GlobalResource, need: Need): boolean {
    const a = this.rules.global[resource];
    return a === undefined ? this.parent.allowedGlobal(resource, need) : grants(a, need);
  }
}

class StaticAuthorizer implements Authorizer {
  constructor(
    private readonly allow: boolean,
    readonly management: boolean,
  ) {}
  allowed(): boolean {
    return this.allow;
  }
  allowedPrefixWrite(): boolean {
    return this.allow;
  }
  allowedGlobal(resource: GlobalResource): boolean {
    return resource === 'acl' ? this.management : this.allow;
  }
}

export const MANAGE_ALL: Authorizer = new StaticAuthorizer(true, true);
export const ALLOW_ALL: Authorizer = new StaticAuthorizer(true, false);
export const DENY_ALL: Authorizer = new StaticAuthorizer(false, false);

export function defaultAuthorizer(defaultPolicy: 'allow' | 'deny'): Authorizer {
  return defaultPolicy === 'allow' ? ALLOW_ALL : DENY_ALL;
}

/** A token's authorizer: its policies' rules merged, over the default policy. */
export function policyAuthorizer(policies: readonly PolicyRules[], defaultPolicy: 'allow' | 'deny'): Authorizer {
  return new PolicyAuthorizer(mergeRules(policies), defaultAuthorizer(defaultPolicy));
}
