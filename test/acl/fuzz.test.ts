// Fuzzed bad input for the ACL parsers: rules text (HCL and JSON), policy/token/role bodies.
// Every answer is a clear 4xx (or a success for input that happens to be valid), never a 500,
// a throw or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aclConfig } from '../../core/acl/config.ts';
import { parseRules, RulesError } from '../../core/acl/rules.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';

const MASTER = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const backend = () => new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy: 'deny', tokens: { initialManagement: MASTER } }) });

const ruleish = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.json({ maxDepth: 4 }),
  fc
    .tuple(
      fc.constantFrom('key', 'key_prefix', 'service', 'node_prefix', 'operator', 'acl', 'kee', 'policy', '"x"', '{', '}', '=', '[', ']'),
      fc.constantFrom('"a"', '""', 'a', '{', '}', '= "read"', '{ policy = "write" }', '{ policy = "lst" }', '{ policy = }', '<<EOF', '#'),
      fc.constantFrom('', '\n', '}', '{', '"', ' = ', '[1,2]'),
    )
    .map((t) => t.join(' ')),
);

describe('fuzzed ACL input', () => {
  it('rules text: parsed or a RulesError with a message, nothing else', () => {
    fc.assert(
      fc.property(ruleish, (text) => {
        try {
          parseRules(text);
        } catch (e) {
          expect(e).toBeInstanceOf(RulesError);
          expect((e as Error).message.length).toBeGreaterThan(10);
          expect((e as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: 2000, seed: 18 },
    );
  });

  const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.object({ maxDepth: 1 })), { maxLength: 3 }), fc.object({ maxDepth: 2 }));
  const body = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.json({ maxDepth: 3 }),
    fc
      .dictionary(
        fc.constantFrom('Name', 'Rules', 'Description', 'Policies', 'Roles', 'ServiceIdentities', 'NodeIdentities', 'Local', 'AccessorID', 'SecretID', 'ExpirationTTL', 'Datacenters', 'ID'),
        value,
      )
      .map((o) => JSON.stringify(o)),
  );
  const target = fc.constantFrom(
    ['PUT', '/v1/acl/policy'],
    ['PUT', '/v1/acl/token'],
    ['PUT', '/v1/acl/role'],
    ['PUT', '/v1/acl/token/aaaaaaaa-0000-0000-0000-000000000001'],
    ['PUT', '/v1/acl/policy/aaaaaaaa-0000-0000-0000-000000000001'],
    ['PUT', '/v1/acl/token/not-a-uuid'],
    ['GET', '/v1/acl/token/x%20y'],
    ['DELETE', '/v1/acl/role/zz'],
  );

  it('policy, token and role bodies: 2xx or 4xx with a plain message, never 5xx', async () => {
    const b = backend();
    await fc.assert(
      fc.asyncProperty(target, body, async ([method, url], text) => {
        const res = await b.handle(request(method!, url!, text, { 'x-consul-token': MASTER }));
        const msg = bodyText(res);
        // Apply-time refusals ("cannot find policy", "already exists") are Consul's 500s; they
        // still must name the problem. Nothing may be an internal error.
        expect(msg).not.toMatch(/Internal error|TypeError|undefined is not/);
        if (res.status >= 500) expect(msg).toMatch(/cannot find|already|not permitted|Cannot|in use/);
        else expect(res.status < 300 || (res.status >= 400 && res.status < 500)).toBe(true);
      }),
      { numRuns: 1500, seed: 18 },
    );
  });
});
