// core/acl/queries.ts — the ACL reads the servers answer (/v1/acl/policy, token, role, lists).
//
// Owns: the AclQuery union (part of core/rpc's Query), what each returns from AclState, and
// the list stubs' shapes (Consul's: policy stubs without Rules).
// Must never: authorize or redact (enforce.ts does, because it knows the caller).
import type { AclPolicy, AclRole, AclState, AclToken } from './state.ts';

export type AclQuery =
  | { q: 'aclPolicyRead'; id: string }
  | { q: 'aclPolicyReadByName'; name: string }
  | { q: 'aclPolicyList' }
  | { q: 'aclTokenRead'; accessorId: string }
  /** The caller's own token; answered from the request's token by enforce.ts. */
  | { q: 'aclTokenSelf' }
  | { q: 'aclTokenList'; policy?: string; role?: string }
  | { q: 'aclRoleRead'; id: string }
  | { q: 'aclRoleReadByName'; name: string }
  | { q: 'aclRoleList'; policy?: string };

export const isAclQuery = (q: { q: string }): q is AclQuery => q.q.startsWith('acl');

export type PolicyStub = Omit<AclPolicy, 'Rules'>;

export function policyStub(p: AclPolicy): PolicyStub {
  const { Rules: _rules, ...stub } = p;
  return stub;
}

/** Values: a record or null for reads, arrays for lists; tokens unredacted (enforce.ts redacts). */
export function executeAclQuery(acl: AclState, query: AclQuery): { index: number; value: unknown } {
  const index = Math.max(1, acl.index);
  switch (query.q) {
    case 'aclPolicyRead':
      return { index, value: acl.policy(query.id) ?? null };
    case 'aclPolicyReadByName':
      return { index, value: acl.policyByName(query.name) ?? null };
    case 'aclPolicyList':
      return { index, value: acl.policyList().map(policyStub) };
    case 'aclTokenRead':
      return { index, value: acl.token(query.accessorId) ?? null };
    case 'aclTokenSelf':
      return { index, value: null };
    case 'aclTokenList':
      return {
        index,
        value: acl
          .tokenList()
          .filter((t: AclToken) => query.policy === undefined || t.Policies.some((l) => l.ID === query.policy))
          .filter((t: AclToken) => query.role === undefined || t.Roles.some((l) => l.ID === query.role)),
      };
    case 'aclRoleRead':
      return { index, value: acl.role(query.id) ?? null };
    case 'aclRoleReadByName':
      return { index, value: acl.roleByName(query.name) ?? null };
    case 'aclRoleList':
      return { index, value: acl.roleList().filter((r: AclRole) => query.policy === undefined || r.Policies.some((l) => l.ID === query.policy)) };
  }
}
