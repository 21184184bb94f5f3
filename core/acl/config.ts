// core/acl/config.ts — the agent's `acl { … }` settings as the ACL code needs them.
//
// Owns: AclConfig (Consul 1.x's acl stanza: enabled, default_policy, down_policy, token_ttl,
// enable_key_list_policy, tokens { initial_management, agent, default }) and its defaults.
// Must never: parse config files (the config model does) or hold secrets anywhere but here.

export type DownPolicy = 'allow' | 'deny' | 'extend-cache' | 'async-cache';

export interface AclConfig {
  enabled: boolean;
  defaultPolicy: 'allow' | 'deny';
  downPolicy: DownPolicy;
  /** How long a client agent trusts a token it resolved through the servers. */
  tokenTtlMs: number;
  /** `?keys` / `?recurse` need `list` on the prefix (else results are only filtered). */
  enableKeyListPolicy: boolean;
  tokens: {
    /** Accepted by the servers as a management token from the first start (no bootstrap). */
    initialManagement: string;
    /** Used by this agent's own writes (anti-entropy, its node's registration). */
    agent: string;
    /** Used for requests that carry no token, and for DNS. */
    default: string;
  };
}

export const ACL_DISABLED: AclConfig = {
  enabled: false,
  defaultPolicy: 'allow',
  downPolicy: 'extend-cache',
  tokenTtlMs: 30_000,
  enableKeyListPolicy: false,
  tokens: { initialManagement: '', agent: '', default: '' },
};

export function aclConfig(partial: Partial<Omit<AclConfig, 'tokens'>> & { tokens?: Partial<AclConfig['tokens']> } = {}): AclConfig {
  return { ...ACL_DISABLED, ...partial, tokens: { ...ACL_DISABLED.tokens, ...(partial.tokens ?? {}) } };
}
