// core/acl/rules.ts — Consul's ACL rule language: the policy document a policy's `Rules` holds.
//
// Owns: the rule vocabulary (resources, access levels), turning a decoded rules document (from
// JSON, or from HCL through the config model's parser) into a normalised PolicyRules value, and the
// one-line errors for documents that are not rules.
// Must never: decide access (authorizer.ts does), throw anything but RulesError, or accept a
// document silently that it does not understand: an unknown resource or access level is an
// error that names it.
//
// The shapes are Consul 1.x's: `key_prefix "web/" { policy = "read" }` in HCL is
// `{"key_prefix": {"web/": {"policy": "read"}}}` in JSON; HCL-to-JSON decoders may also wrap
// blocks in arrays (`{"key_prefix": [{"web/": [{"policy": "read"}]}]}`), which is accepted.
// `keyring`, `operator` and `acl` take a bare access string.

export type Access = 'deny' | 'read' | 'list' | 'write';
export const ACCESS_LEVELS: readonly Access[] = ['deny', 'read', 'list', 'write'];

/** Resources whose rules are keyed by a name (exact) or a name prefix (`*_prefix`). */
export type Resource = 'key' | 'service' | 'node' | 'session' | 'agent' | 'event' | 'query';
export const RESOURCES: readonly Resource[] = ['key', 'service', 'node', 'session', 'agent', 'event', 'query'];

/** Resources with one access level for the whole cluster. */
export type GlobalResource = 'keyring' | 'operator' | 'acl';
export const GLOBAL_RESOURCES: readonly GlobalResource[] = ['keyring', 'operator', 'acl'];

export interface Rule {
  /** The exact name, or the prefix when `prefix` is true ('' matches everything). */
  name: string;
  prefix: boolean;
  access: Access;
}

export interface PolicyRules {
  /** Per resource, sorted by (name, prefix) so equal documents compare equal. */
  named: Record<Resource, Rule[]>;
  global: Partial<Record<GlobalResource, Access>>;
}

import { parseHcl } from '../config/hcl.ts';
import { toPlain } from '../config/tree.ts';

export class RulesError extends Error {}

export function emptyRules(): PolicyRules {
  return { named: { key: [], service: [], node: [], session: [], agent: [], event: [], query: [] }, global: {} };
}

/** Decodes HCL text to a plain JSON-like value; throws with a message on a syntax error. */
export type HclParse = (text: string) => unknown;

/** The config model's HCL parser, as rules need it (labelled blocks become nested objects). */
export const hclRules: HclParse = (text) => {
  const r = parseHcl(text, 'rules');
  if (!r.ok) throw new Error(r.error.message.replace(/^rules:/, 'line '));
  return toPlain(r.body);
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Consul's HCL-to-JSON forms put one block per array element; fold them back into one object. */
function blocks(v: unknown, where: string): Obj {
  if (isObj(v)) return v;
  if (Array.isArray(v)) {
    const out: Obj = {};
    for (const item of v) {
      if (!isObj(item)) throw new RulesError(`${where} must be a block of named rules, e.g. ${where} "web/" { policy = "read" }`);
      for (const [k, x] of Object.entries(item)) {
        if (k in out) throw new RulesError(`${where} "${k}" is given twice`);
        out[k] = x;
      }
    }
    return out;
  }
  throw new RulesError(`${where} must be a block of named rules, e.g. ${where} "web/" { policy = "read" }`);
}

function accessOf(v: unknown, where: string, allowList: boolean): Access {
  const allowed = allowList ? 'read, write, list or deny' : 'read, write or deny';
  if (typeof v !== 'string' || !(ACCESS_LEVELS as readonly string[]).includes(v) || (v === 'list' && !allowList)) {
    throw new RulesError(`Invalid ${where} policy: ${JSON.stringify(v) ?? 'undefined'} (use ${allowed})`);
  }
  return v as Access;
}

/** Fields a rule block may hold besides `policy`; accepted so Consul documents load, not used. */
const IGNORED_RULE_FIELDS = new Set(['intentions']);

function ruleBody(v: unknown, where: string, allowList: boolean): Access {
  // A block decoded from HCL may arrive as [{policy = "…"}].
  let body = v;
  if (Array.isArray(body) && body.length === 1) body = body[0];
  if (!isObj(body)) throw new RulesError(`${where} must be a block with a policy, e.g. { policy = "read" }`);
  for (const k of Object.keys(body)) {
    if (k !== 'policy' && !IGNORED_RULE_FIELDS.has(k)) throw new RulesError(`${where}: unknown field '${k}' (a rule block holds policy)`);
  }
  if (!('policy' in body)) throw new RulesError(`${where} has no policy; add policy = "read", "write" or "deny"`);
  return accessOf(body['policy'], where, allowList);
}

const compareRule = (a: Rule, b: Rule): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.prefix) - Number(b.prefix));

/** A decoded rules document (an object) → PolicyRules. */
export function rulesFromDocument(doc: unknown): PolicyRules {
  if (!isObj(doc)) throw new RulesError('ACL rules must be an object of resources, e.g. {"key_prefix": {"": {"policy": "read"}}}');
  const out = emptyRules();
  for (const [field, value] of Object.entries(doc)) {
    if ((GLOBAL_RESOURCES as readonly string[]).includes(field)) {
      const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
      out.global[field as GlobalResource] = accessOf(v, field, false);
      continue;
    }
    const prefix = field.endsWith('_prefix');
    const resource = (prefix ? field.slice(0, -'_prefix'.length) : field) as Resource;
    if (!RESOURCES.includes(resource)) {
      throw new RulesError(
        `unknown ACL resource '${field}' (use ${RESOURCES.flatMap((r) => [r, `${r}_prefix`]).join(', ')}, ${GLOBAL_RESOURCES.join(', ')})`,
      );
    }
    const seen = new Set(out.named[resource].filter((r) => r.prefix === prefix).map((r) => r.name));
    for (const [name, body] of Object.entries(blocks(value, field))) {
      if (seen.has(name)) throw new RulesError(`${field} "${name}" is given twice`);
      seen.add(name);
      out.named[resource].push({ name, prefix, access: ruleBody(body, `${field} "${name}"`, resource === 'key') });
    }
  }
  for (const r of RESOURCES) out.named[r].sort(compareRule);
  return out;
}

/** Rules text as stored in a policy: JSON when it starts with '{', else HCL (needs `hcl`). */
export function parseRules(text: string, hcl: HclParse | null = hclRules): PolicyRules {
  if (typeof text !== 'string') throw new RulesError('ACL rules must be a string of HCL or JSON');
  const trimmed = text.trim();
  if (trimmed === '') return emptyRules();
  let doc: unknown;
  if (trimmed.startsWith('{')) {
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new RulesError(`Failed to parse ACL rules as JSON: ${(e as Error).message}`);
    }
  } else {
    if (!hcl) throw new RulesError('ACL rules in HCL cannot be read here; send them as JSON ({"key_prefix": {"": {"policy": "read"}}})');
    try {
      doc = hcl(trimmed);
    } catch (e) {
      throw new RulesError(`Failed to parse ACL rules: ${(e as Error).message}`);
    }
  }
  return rulesFromDocument(doc);
}

/** PolicyRules back to Consul's JSON document shape (what commands and snapshots carry). */
export function rulesToDocument(rules: PolicyRules): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [resource, list] of Object.entries(rules.named)) {
    for (const r of list) {
      const field = r.prefix ? `${resource}_prefix` : resource;
      const block = (doc[field] ??= {}) as Record<string, unknown>;
      block[r.name] = { policy: r.access };
    }
  }
  for (const [g, a] of Object.entries(rules.global)) doc[g] = a;
  return doc;
}
