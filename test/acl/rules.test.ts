// ACL rules: the document parser (JSON and HCL-shaped documents, clear errors) and the
// authorizer's precedence (exact over prefix, longest prefix, deny wins a merge, defaults).
import { describe, expect, it } from 'vitest';
import { parseRules, rulesFromDocument, rulesToDocument, RulesError } from '../../core/acl/rules.ts';
import { ALLOW_ALL, DENY_ALL, MANAGE_ALL, mergeRules, policyAuthorizer } from '../../core/acl/authorizer.ts';

const rules = (doc: unknown) => rulesFromDocument(doc);

describe('rules documents', () => {
  it('reads Consul JSON rules, sorted, and writes them back', () => {
    const r = parseRules(JSON.stringify({ key_prefix: { 'web/': { policy: 'read' }, '': { policy: 'deny' } }, key: { 'web/x': { policy: 'write' } }, operator: 'read' }));
    expect(r.named.key).toEqual([
      { name: '', prefix: true, access: 'deny' },
      { name: 'web/', prefix: true, access: 'read' },
      { name: 'web/x', prefix: false, access: 'write' },
    ]);
    expect(r.global).toEqual({ operator: 'read' });
    expect(rulesFromDocument(rulesToDocument(r))).toEqual(r);
  });

  it('accepts the array-wrapped blocks HCL decoders produce', () => {
    const r = rules({ service_prefix: [{ '': [{ policy: 'read' }] }, { db: [{ policy: 'write' }] }], keyring: ['write'] });
    expect(r.named.service.map((x) => [x.name, x.access])).toEqual([['', 'read'], ['db', 'write']]);
    expect(r.global.keyring).toBe('write');
  });

  it('reads Consul HCL rules through the config model parser; an empty text is no rules', () => {
    expect(parseRules('  ').named.key).toEqual([]);
    const r = parseRules('key_prefix "" { policy = "read" }\nkey_prefix "app/" { policy = "write" }\nservice "web" { policy = "write" }\noperator = "read"\n');
    expect(r.named.key.map((x) => [x.name, x.access])).toEqual([['', 'read'], ['app/', 'write']]);
    expect(r.named.service).toEqual([{ name: 'web', prefix: false, access: 'write' }]);
    expect(r.global.operator).toBe('read');
    expect(() => parseRules('key "a" { policy = }')).toThrow(/^Failed to parse ACL rules: line 1:\d+: /);
    expect(() => parseRules('key "a" { policy = "read" }', null)).toThrow(/send them as JSON/);
  });

  it.each([
    [{ kee: { a: { policy: 'read' } } }, /unknown ACL resource 'kee'/],
    [{ key: { a: { policy: 'rw' } } }, /Invalid key "a" policy: "rw"/],
    [{ service: { a: { policy: 'list' } } }, /use read, write or deny/],
    [{ key: { a: { polcy: 'read' } } }, /unknown field 'polcy'/],
    [{ key: { a: {} } }, /has no policy/],
    [{ key: 'read' }, /must be a block of named rules/],
    [{ operator: 'admin' }, /Invalid operator policy/],
    [[1, 2], /must be an object of resources/],
  ])('%j is refused: %s', (doc, msg) => {
    expect(() => rules(doc)).toThrow(RulesError);
    expect(() => rules(doc)).toThrow(msg);
  });

  it('bad JSON text names the problem', () => {
    expect(() => parseRules('{"key": ')).toThrow(/Failed to parse ACL rules as JSON/);
  });
});

describe('authorizer precedence', () => {
  const a = policyAuthorizer(
    [
      rules({
        key_prefix: { '': { policy: 'read' }, 'app/': { policy: 'write' }, 'app/secret/': { policy: 'deny' } },
        key: { 'app/secret/open': { policy: 'read' }, app: { policy: 'deny' } },
        service_prefix: { '': { policy: 'read' } },
      }),
    ],
    'deny',
  );

  it('an exact rule beats every prefix rule; the longest prefix wins otherwise', () => {
    expect(a.allowed('key', 'app/x', 'write')).toBe(true);
    expect(a.allowed('key', 'app/secret/k', 'read')).toBe(false);
    expect(a.allowed('key', 'app/secret/open', 'read')).toBe(true);
    expect(a.allowed('key', 'app/secret/open', 'write')).toBe(false);
    expect(a.allowed('key', 'app', 'read')).toBe(false);
    expect(a.allowed('key', 'apple', 'read')).toBe(true);
    expect(a.allowed('key', 'zzz', 'write')).toBe(false);
  });

  it('list is granted by list and write only; nothing matching falls to the default', () => {
    expect(a.allowed('key', 'zzz', 'list')).toBe(false);
    expect(a.allowed('key', 'app/y', 'list')).toBe(true);
    expect(a.allowed('node', 'n1', 'read')).toBe(false);
    expect(policyAuthorizer([], 'allow').allowed('node', 'n1', 'write')).toBe(true);
  });

  it('a prefix-wide write fails when any rule beneath is weaker', () => {
    expect(a.allowedPrefixWrite('key', 'app/x/')).toBe(true);
    expect(a.allowedPrefixWrite('key', 'app/')).toBe(false);
    expect(a.allowedPrefixWrite('key', '')).toBe(false);
  });

  it('merging policies: deny beats write beats list beats read', () => {
    const m = mergeRules([rules({ key: { k: { policy: 'read' } } }), rules({ key: { k: { policy: 'write' } } }), rules({ key: { k: { policy: 'list' } } })]);
    expect(m.named.key).toEqual([{ name: 'k', prefix: false, access: 'write' }]);
    const d = policyAuthorizer([rules({ key: { k: { policy: 'write' } } }), rules({ key: { k: { policy: 'deny' } } })], 'allow');
    expect(d.allowed('key', 'k', 'read')).toBe(false);
  });

  it('default allow never grants ACL management; management tokens get everything', () => {
    expect(ALLOW_ALL.allowedGlobal('acl', 'write')).toBe(false);
    expect(ALLOW_ALL.allowedGlobal('operator', 'write')).toBe(true);
    expect(DENY_ALL.allowedGlobal('operator', 'read')).toBe(false);
    expect(MANAGE_ALL.allowedGlobal('acl', 'write')).toBe(true);
    expect(policyAuthorizer([rules({ acl: 'read' })], 'allow').allowedGlobal('acl', 'write')).toBe(false);
  });
});
