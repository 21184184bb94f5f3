// Prepared queries (/v1/query): Consul's shapes, codes and texts; execute's filters; templates;
// session-bound queries; snapshots; DNS `NAME.query.consul`; ACLs.
import { describe, expect, it } from 'vitest';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { aclConfig } from '../../core/acl/config.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';
import { ask } from '../dns/helpers.ts';

async function call(b: FakeBackend, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await b.handle(request(method, path, body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body), headers));
  const t = bodyText(res);
  let json: any;
  try {
    json = JSON.parse(t);
  } catch {
    json = undefined;
  }
  return { status: res.status, text: t, json, headers: res.headers };
}

/** A node with a service instance and one service check in `status`. */
async function instance(b: FakeBackend, node: string, status: string, opts: { tags?: string[]; nodeMeta?: Record<string, string>; meta?: Record<string, string>; service?: string; checkId?: string } = {}) {
  const service = opts.service ?? 'db';
  const r = await call(b, 'PUT', '/v1/catalog/register', {
    Node: node,
    Address: `10.0.0.${node.replace(/\D/g, '') || '9'}`,
    NodeMeta: opts.nodeMeta,
    Service: { Service: service, ID: service, Tags: opts.tags ?? [], Port: 5432, Meta: opts.meta },
    Check: { CheckID: opts.checkId ?? `${service}-check`, Name: 'check', Status: status, ServiceID: service },
  });
  expect(r.status, r.text).toBe(200);
}

const create = (b: FakeBackend, q: unknown) => call(b, 'POST', '/v1/query', q);
const nodesOf = (r: { json: any }) => (r.json.Nodes as Array<{ Node: { Node: string } }>).map((n) => n.Node.Node).sort();

describe('/v1/query CRUD', () => {
  it('creates, reads, lists, updates and deletes with Consul shapes', async () => {
    const b = new FakeBackend();
    const c = await create(b, { Name: 'my-query', Service: { Service: 'redis', Failover: { NearestN: 3, Datacenters: ['dc1', 'dc2'] }, Tags: ['primary', '!experimental'], OnlyPassing: true }, DNS: { TTL: '10s' } });
    expect(c.status).toBe(200);
    expect(Object.keys(c.json)).toEqual(['ID']);
    expect(c.json.ID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const id = c.json.ID;

    const g = await call(b, 'GET', `/v1/query/${id}`);
    expect(g.status).toBe(200);
    expect(g.headers['X-Consul-Index']).toBeDefined();
    expect(g.json).toEqual([
      {
        ID: id,
        Name: 'my-query',
        Session: '',
        Token: '',
        Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
        Service: {
          Service: 'redis',
          Failover: { NearestN: 3, Datacenters: ['dc1', 'dc2'] },
          OnlyPassing: true,
          IgnoreCheckIDs: null,
          Near: '',
          Tags: ['primary', '!experimental'],
          NodeMeta: null,
          ServiceMeta: null,
          Connect: false,
        },
        DNS: { TTL: '10s' },
        CreateIndex: g.json[0].CreateIndex,
        ModifyIndex: g.json[0].CreateIndex,
      },
    ]);
    expect(Object.keys(g.json[0])).toEqual(['ID', 'Name', 'Session', 'Token', 'Template', 'Service', 'DNS', 'CreateIndex', 'ModifyIndex']);

    // PUT takes the ID from the URL, not the body; an update answers an empty 200.
    const u = await call(b, 'PUT', `/v1/query/${id}`, { ID: 'ignored', Name: 'my-query', Service: { Service: 'redis2' } });
    expect([u.status, u.text]).toEqual([200, '']);
    const after = (await call(b, 'GET', `/v1/query/${id}`)).json[0];
    expect(after.Service.Service).toBe('redis2');
    expect(after.CreateIndex).toBe(g.json[0].CreateIndex);
    expect(after.ModifyIndex).toBeGreaterThan(after.CreateIndex);

    const l = await call(b, 'GET', '/v1/query');
    expect(l.json.map((q: { ID: string }) => q.ID)).toEqual([id]);

    const d = await call(b, 'DELETE', `/v1/query/${id}`);
    expect([d.status, d.text]).toEqual([200, '']);
    expect(await call(b, 'GET', '/v1/query')).toMatchObject({ status: 200, json: [] });
    expect(await call(b, 'GET', `/v1/query/${id}`)).toMatchObject({ status: 404, text: 'Query not found' });
    expect(await call(b, 'DELETE', `/v1/query/${id}`)).toMatchObject({ status: 500, text: `Cannot modify non-existent prepared query: '${id}'` });
    expect(await call(b, 'PUT', `/v1/query/${id}`, { Service: { Service: 'x' } })).toMatchObject({ status: 500, text: `Cannot modify non-existent prepared query: '${id}'` });
  });

  it("refuses what Consul refuses, with Consul's texts, and stores nothing", async () => {
    const b = new FakeBackend();
    const cases: Array<[unknown, number, string]> = [
      [{ Name: 'a' }, 500, 'Invalid prepared query: Must provide a Service name to query'],
      [{ Service: { Service: 'x', Failover: { NearestN: -1 } } }, 500, "Invalid prepared query: Bad NearestN '-1', must be >= 0"],
      [{ Service: { Service: 'x' }, DNS: { TTL: 'soon' } }, 500, 'Invalid prepared query: Bad DNS TTL \'soon\': time: invalid duration "soon"'],
      [{ Service: { Service: 'x' }, DNS: { TTL: '-5s' } }, 500, "Invalid prepared query: DNS TTL '-5000000000', must be >=0"],
      [{ Service: { Service: 'x', NodeMeta: { 'bad key': 'v' } } }, 500, 'Invalid prepared query: Key contains invalid characters: bad key'],
      [{ Name: 't', Template: { Type: 'prefix' }, Service: { Service: 'x' } }, 500, "failed compiling template: Bad Template.Type 'prefix'"],
      [{ Name: 't', Template: { Type: 'name_prefix_match', Regexp: '(' }, Service: { Service: 'x' } }, 500, 'failed compiling template: Bad Regexp: '],
      [{ Name: 't', Template: { Type: 'name_prefix_match' }, Service: { Service: '${nope}' } }, 500, "failed compiling template: Bad evaluation for '${nope}' in Service.Service: unknown variable accessed: nope"],
      [{ Name: 't', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.full' } }, 500, "failed compiling template: Bad format '${name.full' in Service.Service"],
      [{ ID: 'mine', Service: { Service: 'x' } }, 500, 'ID must be empty when creating a new prepared query'],
      [{ Session: 'no-such', Service: { Service: 'x' } }, 500, 'invalid session "no-such"'],
      [{ Service: { Service: 'x', Tags: 'primary' } }, 400, 'Request decode failed: Service.Tags must be a list of strings'],
      ['{"Service": ', 400, 'Request decode failed: '],
      ['[1]', 400, 'Request decode failed: the prepared query must be a JSON object'],
    ];
    for (const [body, status, textStart] of cases) {
      const r = await create(b, body);
      expect([r.status, r.text.slice(0, textStart.length)], JSON.stringify(body)).toEqual([status, textStart]);
    }
    expect(b.fsm.preparedQueryList()).toEqual([]);

    const first = await create(b, { Name: 'Same', Service: { Service: 'x' } });
    expect(first.status).toBe(200);
    // Names are unique regardless of case (Consul's name index is lowercased).
    expect(await create(b, { Name: 'same', Service: { Service: 'y' } })).toMatchObject({ status: 500, text: "name 'same' aliases an existing query name" });
    expect(await create(b, { Name: first.json.ID, Service: { Service: 'y' } })).toMatchObject({ status: 500, text: `name '${first.json.ID}' aliases an existing query ID` });
    expect((await create(b, { Template: { Type: 'name_prefix_match' }, Service: { Service: 'a' } })).status).toBe(200);
    expect(await create(b, { Template: { Type: 'name_prefix_match' }, Service: { Service: 'b' } })).toMatchObject({ status: 500, text: 'a query template with an empty name already exists' });
    expect(b.fsm.preparedQueryList()).toHaveLength(2);
    expect((await call(b, 'GET', '/v1/query')).status).toBe(200);
    expect(await call(b, 'POST', `/v1/query/${first.json.ID}`)).toMatchObject({ status: 405 });
    expect(await call(b, 'PUT', `/v1/query/${first.json.ID}/execute`)).toMatchObject({ status: 405 });
  });
});

describe('execute and explain', () => {
  it('drops critical instances (warning too with OnlyPassing), honours IgnoreCheckIDs, tags with !, meta', async () => {
    const b = new FakeBackend();
    await instance(b, 'n1', 'passing', { tags: ['primary', 'v1'], nodeMeta: { rack: 'a' }, meta: { env: 'prod' } });
    await instance(b, 'n2', 'warning', { tags: ['primary'], nodeMeta: { rack: 'b' }, meta: { env: 'prod' } });
    await instance(b, 'n3', 'critical', { tags: ['primary'], checkId: 'flaky' });
    await instance(b, 'n4', 'passing', { tags: ['replica', 'experimental'], meta: { env: 'dev' } });

    const exec = async (service: Record<string, unknown>, query = '') => {
      const id = (await create(b, { Service: { Service: 'db', ...service } })).json.ID;
      return call(b, 'GET', `/v1/query/${id}/execute${query}`);
    };
    const all = await exec({});
    expect(all.status).toBe(200);
    expect(nodesOf(all)).toEqual(['n1', 'n2', 'n4']);
    expect(all.json).toMatchObject({ Service: 'db', DNS: { TTL: '' }, Datacenter: 'dc1', Failovers: 0, KnownLeader: true });
    expect(Object.keys(all.json).slice(0, 5)).toEqual(['Service', 'Nodes', 'DNS', 'Datacenter', 'Failovers']);
    expect(all.json.Nodes[0]).toHaveProperty('Checks');
    expect(nodesOf(await exec({ OnlyPassing: true }))).toEqual(['n1', 'n4']);
    expect(nodesOf(await exec({ IgnoreCheckIDs: ['flaky'] }))).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(nodesOf(await exec({ Tags: ['PRIMARY'] }))).toEqual(['n1', 'n2']);
    expect(nodesOf(await exec({ Tags: ['!experimental'] }))).toEqual(['n1', 'n2']);
    expect(nodesOf(await exec({ NodeMeta: { rack: 'b' } }))).toEqual(['n2']);
    expect(nodesOf(await exec({ ServiceMeta: { env: 'prod' } }))).toEqual(['n1', 'n2']);
    expect((await exec({}, '?limit=2')).json.Nodes).toHaveLength(2);
    expect(await exec({}, '?limit=x')).toMatchObject({ status: 500, text: 'Bad limit: strconv.Atoi: parsing "x": invalid syntax' });
    // ?near= puts the named node first; the query's Near applies when the caller names none.
    for (let i = 0; i < 5; i++) expect((await exec({}, '?near=n4')).json.Nodes[0].Node.Node).toBe('n4');
    for (let i = 0; i < 5; i++) expect((await exec({ Near: 'n2' })).json.Nodes[0].Node.Node).toBe('n2');
    expect(await call(b, 'GET', '/v1/query/nothing-here/execute')).toMatchObject({ status: 404, text: 'Query not found' });
    expect(await call(b, 'GET', '/v1/query/nothing-here/explain')).toMatchObject({ status: 404, text: 'Query not found' });
  });

  it('shuffles the instances per execute', async () => {
    const b = new FakeBackend();
    for (let i = 1; i <= 6; i++) await instance(b, `n${i}`, 'passing');
    const id = (await create(b, { Name: 'db', Service: { Service: 'db' } })).json.ID;
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) orders.add((await call(b, 'GET', `/v1/query/${id}/execute`)).json.Nodes.map((n: any) => n.Node.Node).join(','));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('resolves by ID, exact name, then the longest-prefix template, rendering it', async () => {
    const b = new FakeBackend();
    await instance(b, 'n1', 'passing', { service: 'geo-db-east', tags: ['primary', 'v2'] });
    await instance(b, 'n2', 'passing', { service: 'plain' });
    const tpl = await create(b, {
      Name: 'geo-db',
      Template: { Type: 'name_prefix_match', Regexp: '^geo-db-(.*?)-([^\\-]+?)$', RemoveEmptyTags: true },
      Service: { Service: 'geo-db-${match(1)}', Tags: ['${match(2)}', '${match(7)}'] },
    });
    expect(tpl.status, tpl.text).toBe(200);
    const ex = await call(b, 'GET', '/v1/query/geo-db-east-primary/explain');
    expect(ex.status).toBe(200);
    expect(ex.json.Query).toMatchObject({ ID: tpl.json.ID, Name: 'geo-db', Service: { Service: 'geo-db-east', Tags: ['primary'] } });
    const run = await call(b, 'GET', '/v1/query/geo-db-east-primary/execute');
    expect([run.json.Service, nodesOf(run)]).toEqual(['geo-db-east', ['n1']]);
    expect(nodesOf(await call(b, 'GET', '/v1/query/geo-db-east-v3/execute'))).toEqual([]);
    // The stored template is unchanged by rendering.
    expect((await call(b, 'GET', `/v1/query/${tpl.json.ID}`)).json[0].Service.Service).toBe('geo-db-${match(1)}');

    // name.prefix / name.suffix; a catch-all (empty-named) template answers every other name.
    await create(b, { Name: '', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.suffix}' } });
    expect((await call(b, 'GET', '/v1/query/plain/explain')).json.Query.Service.Service).toBe('plain');
    expect(nodesOf(await call(b, 'GET', '/v1/query/plain/execute'))).toEqual(['n2']);

    // A plain query answers only its exact name; as the longest prefix it shadows shorter templates.
    await create(b, { Name: 'geo-db-east', Service: { Service: 'plain' } });
    expect(nodesOf(await call(b, 'GET', '/v1/query/geo-db-east/execute'))).toEqual(['n2']);
    expect(await call(b, 'GET', '/v1/query/geo-db-east-primary/execute')).toMatchObject({ status: 404 });
    // By ID it is the template, unrendered names aside.
    expect((await call(b, 'GET', `/v1/query/${tpl.json.ID}/explain`)).json.Query.ID).toBe(tpl.json.ID);
  });
});

describe('prepared queries in the catalog', () => {
  it('a query bound to a session goes when the session does', async () => {
    const b = new FakeBackend();
    const sid = (await call(b, 'PUT', '/v1/session/create', { Checks: [] })).json.ID;
    const id = (await create(b, { Name: 'held', Session: sid, Service: { Service: 'x' } })).json.ID;
    const keep = (await create(b, { Name: 'free', Service: { Service: 'x' } })).json.ID;
    expect(b.fsm.preparedQueryGet(id)?.Session).toBe(sid);
    await call(b, 'PUT', `/v1/session/destroy/${sid}`);
    expect(b.fsm.preparedQueryList().map((q) => q.ID)).toEqual([keep]);
  });

  it('snapshots keep the queries; catalogs that never had one keep their bytes', async () => {
    const b = new FakeBackend();
    await call(b, 'PUT', '/v1/kv/a', 'x');
    const before = b.fsm.snapshot();
    expect(new TextDecoder().decode(before)).not.toContain('preparedQuer');
    const id = (await create(b, { Name: 'q', Template: { Type: 'name_prefix_match' }, Service: { Service: 'x', Tags: ['a'], NodeMeta: { k: 'v' } } })).json.ID;
    const copy = CatalogFSM.restore(b.fsm.snapshot());
    expect(copy.preparedQueryList()).toEqual(b.fsm.preparedQueryList());
    expect(copy.snapshot()).toEqual(b.fsm.snapshot());
    expect(copy.preparedQueryGet(id)?.Name).toBe('q');
    // A damaged query record is refused with where it is.
    const doc = JSON.parse(new TextDecoder().decode(b.fsm.snapshot()));
    doc.preparedQueries[0].Service.Tags = 'a';
    expect(() => CatalogFSM.restore(new TextEncoder().encode(JSON.stringify(doc)))).toThrow(/preparedQueries\[0\].*Service\.Tags/);
  });

  it('blocking GET /v1/query wakes on a query write', async () => {
    const b = new FakeBackend();
    const first = await call(b, 'GET', '/v1/query');
    const idx = first.headers['X-Consul-Index'];
    const parked = call(b, 'GET', `/v1/query?index=${idx}&wait=5s`);
    await create(b, { Name: 'late', Service: { Service: 'x' } });
    const woke = await parked;
    expect(woke.json.map((q: { Name: string }) => q.Name)).toEqual(['late']);
    expect(Number(woke.headers['X-Consul-Index'])).toBeGreaterThan(Number(idx));
  });
});

describe('DNS NAME.query.consul', () => {
  it('answers a query by name and by ID, its own filters and TTL applied; unknown names are NXDOMAIN', async () => {
    const b = new FakeBackend();
    await instance(b, 'n1', 'passing', { tags: ['primary'] });
    await instance(b, 'n2', 'passing', { tags: ['replica'] });
    await instance(b, 'n3', 'critical', { tags: ['primary'] });
    const id = (await create(b, { Name: 'primary-db', Service: { Service: 'db', Tags: ['primary'] }, DNS: { TTL: '30s' } })).json.ID;
    await create(b, { Name: 'geo', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.suffix}' } });

    const a = ask(b.fsm, 'primary-db.query.consul', 'A');
    expect(a.packet.rcode).toBe('NOERROR');
    expect((a.packet.answers as any[]).map((r) => [r.type, r.data, r.ttl])).toEqual([['A', '10.0.0.1', 30]]);
    const srv = ask(b.fsm, `${id}.query.dc1.consul`, 'SRV');
    expect(srv.packet.answers!.map((r) => (r as { data: { port: number; target: string } }).data)).toMatchObject([{ port: 5432, target: 'n1.node.dc1.consul' }]);
    // A template renders for the name asked (`geodb` → service `db`), TTL from the service config.
    const t = ask(b.fsm, 'geodb.query.consul', 'A');
    expect((t.packet.answers as any[]).map((r) => r.data).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect((t.packet.answers as any[]).every((r) => r.ttl === 0)).toBe(true);
    expect(ask(b.fsm, 'nope.query.consul', 'A').packet.rcode).toBe('NXDOMAIN');
    expect(ask(b.fsm, 'primary-db.query.dc2.consul', 'A').packet.rcode).toBe('SERVFAIL');
  });
});

describe('ACLs on prepared queries', () => {
  it('writes need query:write on the name; reads are filtered by query:read; tokens are redacted', async () => {
    const acl = aclConfig({ enabled: true, defaultPolicy: 'deny', tokens: { initialManagement: 'root' } });
    const b = new FakeBackend({ acl });
    const root = { 'x-consul-token': 'root' };
    const pol = await call(b, 'PUT', '/v1/acl/policy', { Name: 'q', Rules: 'query_prefix "web-" { policy = "write" }\nquery "db" { policy = "read" }' }, root);
    expect(pol.status, pol.text).toBe(200);
    const tok = await call(b, 'PUT', '/v1/acl/token', { Policies: [{ Name: 'q' }] }, root);
    const user = { 'x-consul-token': tok.json.SecretID };

    expect((await call(b, 'POST', '/v1/query', { Name: 'web-1', Token: 'secret-token', Service: { Service: 'web' } }, user)).status).toBe(200);
    const denied = await call(b, 'POST', '/v1/query', { Name: 'db', Service: { Service: 'db' } }, user);
    expect(denied.status).toBe(403);
    const db = await call(b, 'POST', '/v1/query', { Name: 'db', Token: 'db-token', Service: { Service: 'db' } }, root);
    const hidden = await call(b, 'POST', '/v1/query', { Name: 'other', Service: { Service: 'db' } }, root);
    expect(b.fsm.preparedQueryList()).toHaveLength(3);

    const list = await call(b, 'GET', '/v1/query', undefined, user);
    expect(list.json.map((q: { Name: string; Token: string }) => [q.Name, q.Token]).sort()).toEqual([
      ['db', '<hidden>'],
      ['web-1', '<hidden>'],
    ]);
    expect((await call(b, 'GET', '/v1/query', undefined, root)).json.map((q: { Token: string }) => q.Token).sort()).toEqual(['', 'db-token', 'secret-token']);
    expect((await call(b, 'GET', `/v1/query/${hidden.json.ID}`, undefined, user)).status).toBe(403);
    expect((await call(b, 'GET', `/v1/query/${db.json.ID}/explain`, undefined, user)).json.Query.Token).toBe('<hidden>');
    expect((await call(b, 'DELETE', `/v1/query/${db.json.ID}`, undefined, user)).status).toBe(403);
    expect(b.fsm.preparedQueryList()).toHaveLength(3);
  });
});
