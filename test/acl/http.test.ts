// The ACL HTTP API and enforcement through the real handler and a server-like fake backend
// (real CatalogFSM with ACL tables, the servers' ACL gate): bootstrap, policies, tokens,
// roles, token self, the three token sources, 403 with nothing written, filtered reads.
import { describe, expect, it } from 'vitest';
import { aclConfig } from '../../core/acl/config.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { FakeBackend, bodyJsonOf, bodyText, request } from '../http/fake-backend.ts';

const MASTER = '11111111-2222-3333-4444-555555555555';

function backend(defaultPolicy: 'allow' | 'deny' = 'deny') {
  return new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy, tokens: { initialManagement: MASTER } }) });
}

async function call(b: FakeBackend, method: string, url: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = token ? { 'x-consul-token': token } : {};
  return b.handle(request(method, url, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers));
}

async function ok(b: FakeBackend, method: string, url: string, body?: unknown, token = MASTER): Promise<any> {
  const r = await call(b, method, url, body, token);
  if (r.status !== 200) throw new Error(`${method} ${url} → ${r.status} ${bodyText(r)}`);
  return bodyJsonOf(r);
}

async function tokenWith(b: FakeBackend, name: string, rules: unknown): Promise<string> {
  await ok(b, 'PUT', '/v1/acl/policy', { Name: name, Rules: JSON.stringify(rules) });
  const t = await ok(b, 'PUT', '/v1/acl/token', { Description: name, Policies: [{ Name: name }] });
  return t.SecretID as string;
}

describe('ACL API', () => {
  it('answers 401 ACL support disabled when ACLs are off, and ignores tokens elsewhere', async () => {
    const b = new FakeBackend();
    const r = await call(b, 'PUT', '/v1/acl/bootstrap');
    expect(r.status).toBe(401);
    expect(bodyText(r)).toBe('ACL support disabled');
    expect((await call(b, 'PUT', '/v1/kv/a', 'x', 'whatever')).status).toBe(200);
  });

  it('bootstraps once; the bootstrap token manages; a second bootstrap is a 403', async () => {
    const b = new FakeBackend({ acl: aclConfig({ enabled: true, defaultPolicy: 'deny' }) });
    const t = await ok(b, 'PUT', '/v1/acl/bootstrap', undefined, '');
    expect(t.Description).toBe('Bootstrap Token (Global Management)');
    expect(t.Policies).toEqual([{ ID: '00000000-0000-0000-0000-000000000001', Name: 'global-management' }]);
    expect(t.AccessorID).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.CreateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const again = await call(b, 'PUT', '/v1/acl/bootstrap');
    expect(again.status).toBe(403);
    expect(bodyText(again)).toMatch(/^Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)$/);
    expect(await ok(b, 'PUT', '/v1/kv/x', 'v', t.SecretID)).toBe(true);
    const self = await ok(b, 'GET', '/v1/acl/token/self', undefined, t.SecretID);
    expect(self.AccessorID).toBe(t.AccessorID);
  });

  it('policies: create, read by id and name, update, list stubs, delete; bad rules are 400', async () => {
    const b = backend();
    const p = await ok(b, 'PUT', '/v1/acl/policy', { Name: 'kv-read', Description: 'd', Rules: '{"key_prefix": {"": {"policy": "read"}}}' });
    expect(p).toMatchObject({ Name: 'kv-read', Description: 'd', Datacenters: [] });
    expect((await ok(b, 'GET', `/v1/acl/policy/${p.ID}`)).Rules).toContain('key_prefix');
    expect((await ok(b, 'GET', '/v1/acl/policy/name/kv-read')).ID).toBe(p.ID);
    const list = await ok(b, 'GET', '/v1/acl/policies');
    expect(list.map((x: any) => x.Name).sort()).toEqual(['global-management', 'kv-read']);
    expect(list.every((x: any) => !('Rules' in x))).toBe(true);
    const upd = await ok(b, 'PUT', `/v1/acl/policy/${p.ID}`, { Name: 'kv-read2', Rules: '' });
    expect(upd.Name).toBe('kv-read2');
    const dup = await call(b, 'PUT', '/v1/acl/policy', { Name: 'kv-read2' }, MASTER);
    expect(dup.status).toBe(500);
    expect(bodyText(dup)).toContain('already exists');
    const bad = await call(b, 'PUT', '/v1/acl/policy', { Name: 'x', Rules: '{"key": {"a": {"policy": "rw"}}}' }, MASTER);
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toBe('Invalid Policy: Invalid key "a" policy: "rw" (use read, write, list or deny)');
    const badName = await call(b, 'PUT', '/v1/acl/policy', { Name: 'has space' }, MASTER);
    expect(badName.status).toBe(400);
    expect(await ok(b, 'DELETE', `/v1/acl/policy/${p.ID}`)).toBe(true);
    expect((await call(b, 'GET', `/v1/acl/policy/${p.ID}`, undefined, MASTER)).status).toBe(403);
    const builtin = await call(b, 'DELETE', '/v1/acl/policy/00000000-0000-0000-0000-000000000001', undefined, MASTER);
    expect(bodyText(builtin)).toContain('not permitted');
  });

  it('tokens: link by name, roles, update keeps the secret, list redacts for acl:read, delete', async () => {
    const b = backend();
    await ok(b, 'PUT', '/v1/acl/policy', { Name: 'svc', Rules: '{"service_prefix": {"": {"policy": "write"}}}' });
    const role = await ok(b, 'PUT', '/v1/acl/role', { Name: 'ops', Policies: [{ Name: 'svc' }] });
    expect(role.Policies[0].Name).toBe('svc');
    const t = await ok(b, 'PUT', '/v1/acl/token', { Description: 'x', Roles: [{ Name: 'ops' }] });
    expect(t.Roles).toEqual([{ ID: role.ID, Name: 'ops' }]);
    expect('Policies' in t).toBe(false);
    const u = await ok(b, 'PUT', `/v1/acl/token/${t.AccessorID}`, { Description: 'y', Roles: [{ ID: role.ID }] });
    expect(u.SecretID).toBe(t.SecretID);
    expect(u.Description).toBe('y');
    expect(u.CreateIndex).toBe(t.CreateIndex);
    const reader = await tokenWith(b, 'acl-reader', { acl: 'read' });
    const listed = await ok(b, 'GET', '/v1/acl/tokens', undefined, reader);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    expect(listed.every((x: any) => x.SecretID === '<hidden>')).toBe(true);
    expect((await call(b, 'PUT', '/v1/acl/token', {}, reader)).status).toBe(403);
    const missing = await call(b, 'PUT', '/v1/acl/token', { Policies: [{ Name: 'nope' }] }, MASTER);
    expect(bodyText(missing)).toBe('cannot find policy named "nope"');
    expect(await ok(b, 'DELETE', `/v1/acl/token/${t.AccessorID}`)).toBe(true);
    expect((await call(b, 'GET', '/v1/kv/a', undefined, t.SecretID)).status).toBe(403);
    expect(bodyText(await call(b, 'GET', '/v1/kv/a', undefined, t.SecretID))).toBe('ACL not found');
  });
});

describe('enforcement', () => {
  it('reads the token from ?token=, X-Consul-Token and Authorization: Bearer', async () => {
    const b = backend();
    const w = await tokenWith(b, 'kvw', { key_prefix: { '': { policy: 'write' } } });
    expect((await b.handle(request('PUT', `/v1/kv/a?token=${w}`, 'x'))).status).toBe(200);
    expect((await b.handle(request('PUT', '/v1/kv/b', 'x', { 'x-consul-token': w }))).status).toBe(200);
    expect((await b.handle(request('PUT', '/v1/kv/c', 'x', { authorization: `Bearer ${w}` }))).status).toBe(200);
    const anon = await b.handle(request('PUT', '/v1/kv/d', 'x'));
    expect(anon.status).toBe(403);
    expect(bodyText(anon)).toContain('Permission denied');
  });

  it('a denied write answers 403 and changes nothing', async () => {
    const b = backend();
    const r = await tokenWith(b, 'ro', { key_prefix: { '': { policy: 'read' } }, service_prefix: { '': { policy: 'read' } }, node_prefix: { '': { policy: 'read' } } });
    await ok(b, 'PUT', '/v1/kv/k', 'v1');
    const before = b.fsm.snapshot();
    const attempts: Array<[string, string, unknown]> = [
      ['PUT', '/v1/kv/k', 'v2'],
      ['DELETE', '/v1/kv/k', undefined],
      ['DELETE', '/v1/kv/?recurse', undefined],
      ['PUT', '/v1/catalog/register', { Node: 'x', Address: '10.0.0.9', Service: { Service: 'web' } }],
      ['PUT', '/v1/catalog/deregister', { Node: 'n1' }],
      ['PUT', '/v1/session/create', {}],
      ['PUT', '/v1/acl/policy', { Name: 'p' }],
      ['PUT', '/v1/agent/service/register', { Name: 'web', Port: 80 }],
      ['PUT', '/v1/agent/force-leave/n2', undefined],
      ['PUT', '/v1/agent/leave', undefined],
    ];
    for (const [m, u, body] of attempts) {
      const res = await call(b, m, u, body, r);
      expect([m, u, res.status, bodyText(res).startsWith('Permission denied')]).toEqual([m, u, 403, true]);
    }
    expect(b.fsm.snapshot()).toEqual(before);
    expect(b.ops.filter((o) => o.op === 'serviceRegister' || o.op === 'leave' || o.op === 'forceLeave')).toEqual([]);
  });

  it('reads are filtered and marked X-Consul-Results-Filtered-By-ACLs; a denied key get is 403', async () => {
    const b = backend();
    await ok(b, 'PUT', '/v1/catalog/register', { Node: 'db1', Address: '10.0.0.2', Service: { Service: 'db', Port: 5432 } });
    await ok(b, 'PUT', '/v1/catalog/register', { Node: 'web1', Address: '10.0.0.3', Service: { Service: 'web', Port: 80 } });
    await ok(b, 'PUT', '/v1/kv/pub/a', '1');
    await ok(b, 'PUT', '/v1/kv/priv/b', '2');
    const t = await tokenWith(b, 'some', { service: { web: { policy: 'read' } }, node_prefix: { web: { policy: 'read' } }, key_prefix: { 'pub/': { policy: 'read' } } });
    const svcs = await call(b, 'GET', '/v1/catalog/services', undefined, t);
    expect(bodyJsonOf(svcs)).toEqual({ web: [] });
    expect(svcs.headers['X-Consul-Results-Filtered-By-ACLs']).toBe('true');
    const nodes = bodyJsonOf(await call(b, 'GET', '/v1/catalog/nodes', undefined, t)) as any[];
    expect(nodes.map((n) => n.Node)).toEqual(['web1']);
    const keys = await call(b, 'GET', '/v1/kv/?keys', undefined, t);
    expect(bodyJsonOf(keys)).toEqual(['pub/a']);
    expect(keys.headers['X-Consul-Results-Filtered-By-ACLs']).toBe('true');
    expect((await call(b, 'GET', '/v1/kv/priv/b', undefined, t)).status).toBe(403);
    const all = await call(b, 'GET', '/v1/catalog/services', undefined, MASTER);
    expect(all.headers['X-Consul-Results-Filtered-By-ACLs']).toBeUndefined();
    expect((await call(b, 'GET', '/v1/health/service/db', undefined, t)).body).toBe('[]');
  });

  it('agent endpoints: members filtered by node:read, self needs agent:read, register needs service:write', async () => {
    const b = backend();
    const t = await tokenWith(b, 'svc-web', { service: { web: { policy: 'write' } } });
    expect((await call(b, 'GET', '/v1/agent/members', undefined, t)).body).toBe('[]');
    expect((await call(b, 'GET', '/v1/agent/self', undefined, t)).status).toBe(403);
    expect((await call(b, 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 80 }, t)).status).toBe(200);
    expect((await call(b, 'PUT', '/v1/agent/service/register', { Name: 'db', Port: 81 }, t)).status).toBe(403);
    expect((await call(b, 'PUT', '/v1/agent/service/deregister/web', undefined, t)).status).toBe(200);
    const bogus = await call(b, 'GET', '/v1/agent/members', undefined, 'not-a-token');
    expect(bogus.status).toBe(403);
    expect(bodyText(bogus)).toBe('ACL not found');
  });

  it('default allow lets anonymous read and write but not manage ACLs', async () => {
    const b = backend('allow');
    expect((await call(b, 'PUT', '/v1/kv/a', 'x')).status).toBe(200);
    expect((await call(b, 'GET', '/v1/acl/tokens')).status).toBe(403);
  });

  it('ACL tables survive a snapshot round trip; a cluster without ACLs keeps its snapshot bytes', async () => {
    const b = backend();
    const secret = await tokenWith(b, 'kvw', { key_prefix: { '': { policy: 'write' } } });
    const copy = CatalogFSM.restore(b.fsm.snapshot());
    expect(copy.snapshot()).toEqual(b.fsm.snapshot());
    expect(copy.acl.resolveSecret(secret)?.rules[0]?.named.key).toEqual([{ name: '', prefix: true, access: 'write' }]);
    const plain = new FakeBackend();
    expect(new TextDecoder().decode(plain.fsm.snapshot())).not.toContain('"acl"');
  });
});
