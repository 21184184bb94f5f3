// Property: random policies, tokens and requests, every answer checked against a small
// reference evaluator of Consul's rules. An allowed request succeeds; a denied one answers 403
// and leaves the catalog and KV exactly as they were (snapshot bytes compared).
//
// The reference is written independently of core/acl/authorizer.ts: it scans every rule of every
// policy, keeps the exact matches if any (the strongest word wins), else the longest matching
// prefixes (strongest wins), else the default policy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aclConfig } from '../../core/acl/config.ts';
import { FakeBackend, bodyJsonOf, bodyText, request } from '../http/fake-backend.ts';

type Word = 'read' | 'write' | 'deny' | 'list';
interface RefRule { resource: 'key' | 'service'; name: string; prefix: boolean; access: Word }
type Need = 'read' | 'write';

const STRENGTH: Record<Word, number> = { read: 1, list: 2, write: 3, deny: 4 };
const MASTER = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

function refAllows(rules: RefRule[], resource: 'key' | 'service', name: string, need: Need, dflt: 'allow' | 'deny'): boolean {
  const mine = rules.filter((r) => r.resource === resource);
  const strongest = (rs: RefRule[]) => rs.reduce((a, b) => (STRENGTH[b.access] > STRENGTH[a.access] ? b : a)).access;
  let word: Word | undefined;
  const exact = mine.filter((r) => !r.prefix && r.name === name);
  if (exact.length) word = strongest(exact);
  else {
    const pre = mine.filter((r) => r.prefix && name.startsWith(r.name));
    if (pre.length) {
      const longest = Math.max(...pre.map((r) => r.name.length));
      word = strongest(pre.filter((r) => r.name.length === longest));
    }
  }
  if (word === undefined) return dflt === 'allow';
  if (word === 'deny') return false;
  return need === 'read' ? true : word === 'write';
}

const names = fc.constantFrom('', 'a', 'ab', 'abc', 'b', 'ba');
const keyWord = fc.constantFrom<Word>('read', 'write', 'deny', 'list');
const svcWord = fc.constantFrom<Word>('read', 'write', 'deny');
const rule = fc.oneof(
  fc.record({ resource: fc.constant('key' as const), name: names, prefix: fc.boolean(), access: keyWord }),
  fc.record({ resource: fc.constant('service' as const), name: names.filter((n) => n !== ''), prefix: fc.boolean(), access: svcWord }),
);
/** One policy: rules with distinct (resource, prefix, name). */
const policy = fc.uniqueArray(rule, { maxLength: 5, selector: (r) => `${r.resource}/${r.prefix}/${r.name}` });

type Req =
  | { kind: 'kvPut'; key: string }
  | { kind: 'kvGet'; key: string }
  | { kind: 'kvDelete'; key: string }
  | { kind: 'register'; service: string }
  | { kind: 'deregister'; service: string }
  | { kind: 'agentRegister'; service: string };

const svcName = names.filter((n) => n !== '');
const req: fc.Arbitrary<Req> = fc.oneof(
  fc.record({ kind: fc.constant('kvPut' as const), key: svcName }),
  fc.record({ kind: fc.constant('kvGet' as const), key: svcName }),
  fc.record({ kind: fc.constant('kvDelete' as const), key: svcName }),
  fc.record({ kind: fc.constant('register' as const), service: svcName }),
  fc.record({ kind: fc.constant('deregister' as const), service: svcName }),
  fc.record({ kind: fc.constant('agentRegister' as const), service: svcName }),
);

function toDocument(rules: RefRule[]): Record<string, Record<string, { policy: Word }>> {
  const doc: Record<string, Record<string, { policy: Word }>> = {};
  for (const r of rules) (doc[r.prefix ? `${r.resource}_prefix` : r.resource] ??= {})[r.name] = { policy: r.access };
  return doc;
}

function toHcl(rules: RefRule[]): string {
  return rules.map((r) => `${r.prefix ? `${r.resource}_prefix` : r.resource} "${r.name}" {\n  policy = "${r.access}"\n}`).join('\n');
}

function expected(rules: RefRule[], r: Req, dflt: 'allow' | 'deny'): boolean {
  switch (r.kind) {
    case 'kvPut':
    case 'kvDelete':
      return refAllows(rules, 'key', r.key, 'write', dflt);
    case 'kvGet':
      return refAllows(rules, 'key', r.key, 'read', dflt);
    case 'register':
    case 'deregister':
    case 'agentRegister':
      return refAllows(rules, 'service', r.service, 'write', dflt);
  }
}

function httpOf(r: Req): [string, string, string | undefined] {
  switch (r.kind) {
    case 'kvPut':
      return ['PUT', `/v1/kv/${r.key}`, 'v'];
    case 'kvGet':
      return ['GET', `/v1/kv/${r.key}`, undefined];
    case 'kvDelete':
      return ['DELETE', `/v1/kv/${r.key}`, undefined];
    case 'register':
      return ['PUT', '/v1/catalog/register', JSON.stringify({ Node: 'n1', Address: '127.0.0.1', Service: { Service: r.service, Port: 1 } })];
    case 'deregister':
      return ['PUT', '/v1/catalog/deregister', JSON.stringify({ Node: 'n1', ServiceID: r.service })];
    case 'agentRegister':
      return ['PUT', '/v1/agent/service/register', JSON.stringify({ Name: r.service, Port: 2 })];
  }
}

describe('ACL decisions match the reference evaluator', () => {
  it('allowed succeeds, denied is 403 with catalog and KV unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(policy, { minLength: 1, maxLength: 3 }),
        fc.constantFrom<'allow' | 'deny'>('allow', 'deny'),
        fc.array(req, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        async (policies, dflt, reqs, hcl) => {
          const b = new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy: dflt, tokens: { initialManagement: MASTER } }) });
          const master = { 'x-consul-token': MASTER };
          // Something to read and deregister: every key and service name exists up front.
          for (const n of ['a', 'ab', 'abc', 'b', 'ba']) {
            expect((await b.handle(request('PUT', `/v1/kv/${n}`, 'seed', master))).status).toBe(200);
            const reg = JSON.stringify({ Node: 'n1', Address: '127.0.0.1', Service: { Service: n, Port: 1 } });
            expect((await b.handle(request('PUT', '/v1/catalog/register', reg, master))).status).toBe(200);
          }
          const links: Array<{ Name: string }> = [];
          for (const [i, rules] of policies.entries()) {
            const text = hcl ? toHcl(rules) : JSON.stringify(toDocument(rules));
            const res = await b.handle(request('PUT', '/v1/acl/policy', JSON.stringify({ Name: `p${i}`, Rules: text }), master));
            expect([res.status, bodyText(res)]).toEqual([200, expect.anything()]);
            links.push({ Name: `p${i}` });
          }
          const tok = await b.handle(request('PUT', '/v1/acl/token', JSON.stringify({ Policies: links }), master));
          const secret = (bodyJsonOf(tok) as { SecretID: string }).SecretID;
          const all = policies.flat();
          for (const r of reqs) {
            const [method, url, body] = httpOf(r);
            const before = b.fsm.snapshot();
            const res = await b.handle(request(method, url, body, { 'x-consul-token': secret }));
            const allow = expected(all, r, dflt);
            if (allow) {
              // A KV get of a deleted key is a 404; everything else allowed answers 200.
              expect([r, res.status]).toEqual([r, r.kind === 'kvGet' && res.status === 404 ? 404 : 200]);
            } else {
              expect([r, res.status, bodyText(res).startsWith('Permission denied')]).toEqual([r, 403, true]);
              expect(Buffer.from(b.fsm.snapshot()).equals(Buffer.from(before))).toBe(true);
            }
          }
        },
      ),
      { numRuns: 150, seed: 18 },
    );
  });

  it('filtered reads show exactly what the reference lets the token read', async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.constantFrom<'allow' | 'deny'>('allow', 'deny'), async (rules, dflt) => {
        const b = new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy: dflt, tokens: { initialManagement: MASTER } }) });
        const master = { 'x-consul-token': MASTER };
        for (const n of ['a', 'ab', 'abc', 'b', 'ba']) {
          await b.handle(request('PUT', `/v1/kv/${n}`, 'x', master));
          await b.handle(request('PUT', '/v1/catalog/register', JSON.stringify({ Node: 'n1', Address: '127.0.0.1', Service: { Service: n } }), master));
        }
        await b.handle(request('PUT', '/v1/acl/policy', JSON.stringify({ Name: 'p', Rules: JSON.stringify(toDocument(rules)) }), master));
        const tok = bodyJsonOf(await b.handle(request('PUT', '/v1/acl/token', JSON.stringify({ Policies: [{ Name: 'p' }] }), master))) as { SecretID: string };
        const as = { 'x-consul-token': tok.SecretID };
        const keys = bodyJsonOf(await b.handle(request('GET', '/v1/kv/?keys', undefined, as)));
        expect(keys).toEqual(['a', 'ab', 'abc', 'b', 'ba'].filter((k) => refAllows(rules, 'key', k, 'read', dflt)));
        const svc = await b.handle(request('GET', '/v1/catalog/services', undefined, as));
        const want = ['a', 'ab', 'abc', 'b', 'ba'].filter((s) => refAllows(rules, 'service', s, 'read', dflt));
        // The node n1 and its 'consul'-less catalog: only names the token may read.
        expect(Object.keys(bodyJsonOf(svc) as object)).toEqual(want);
        expect(svc.headers['X-Consul-Results-Filtered-By-ACLs']).toBe(want.length < 5 ? 'true' : undefined);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
