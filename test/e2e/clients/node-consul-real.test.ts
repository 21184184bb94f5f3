// test/e2e/clients/node-consul-real.test.ts — the `consul` npm client (node-consul 2.x, a
// devDependency) against real Muster agents on loopback: every call it exposes that Muster's
// Consul API answers — status, agent (self, members, reload, join, force-leave, maintenance),
// agent services and checks, catalog, health, KV, sessions, transactions, prepared queries and
// watch — through the library's public API only.
// Not here, with why: event.fire/list (serf user events' HTTP routes are the gossip engineer's,
// not landed), acl.* (ACLs are not wired into the real agent yet: bootstrap answers 401 "ACL
// support disabled", checked; replication and the legacy ACL API are the security engineer's),
// catalog.connect.nodes (no Connect in Muster).
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.26.3 (the api engineer's block 127.26.0.0/16).
import path from 'node:path';
import Consul from 'consul';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, freshTempDir, http, waitFor, type Proc } from '../harness.ts';

const S1 = process.env.MUSTER_E2E_NODECONSUL_IP ?? '127.26.3.1';
const C1 = S1.replace(/\.\d+$/, '.2');
const tmp = freshTempDir('nodeconsul');
const group = new ProcessGroup(tmp);
let consul: Consul;
let client: Consul;
let c1: Proc;

type Any = any; // node-consul's typings answer `any` for most calls

beforeAll(async () => {
  group.agent('s1', ['-server', '-bootstrap-expect', '1', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${S1}`, `-client=${S1}`]);
  c1 = group.agent('c1', ['-data-dir', path.join(tmp, 'c1'), '-node=c1', `-bind=${C1}`, `-client=${C1}`]);
  // A single server elects itself within a few election timeouts; 30 s covers a loaded CI box.
  await waitFor(
    'a leader and the client agent up',
    async () => {
      const r = await http(`http://${S1}:8500/v1/status/leader`).catch(() => undefined);
      const c = await http(`http://${C1}:8500/v1/agent/self`).catch(() => undefined);
      return r?.status === 200 && r.text.includes(':8300') && c?.status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
  consul = new Consul({ host: S1, port: 8500 });
  client = new Consul({ host: C1, port: 8500 });
}, 60_000);

afterAll(async () => {
  consul?.destroy();
  client?.destroy();
  await group.killAll();
});

describe('node-consul against real agents', () => {
  it('status.leader, status.peers', async () => {
    expect(await consul.status.leader()).toBe(`${S1}:8300`);
    expect(await consul.status.peers()).toEqual([`${S1}:8300`]);
  });

  it('agent.self, agent.reload, agent.join (from the client agent), agent.members', async () => {
    const self: Any = await consul.agent.self();
    expect(self.Config.NodeName).toBe('s1');
    expect(self.Member.Addr).toBe(S1);
    await consul.agent.reload();
    await client.agent.join(S1);
    // Gossip converges within a few probe rounds of the join; 15 s bounds a loaded box.
    const members: Any[] = await waitFor(
      'both members seen by the server',
      async () => {
        const m: Any[] = await consul.agent.members();
        return m.length === 2 && m.every((x) => x.Status === 1) && m;
      },
      { timeoutMs: 15_000, context: () => group.tails(10) },
    );
    expect(members.map((m) => [m.Name, m.Addr, m.Tags.role]).sort()).toEqual([
      ['c1', C1, 'node'],
      ['s1', S1, 'consul'],
    ]);
    // The client's own catalog entry arrives through anti-entropy.
    await waitFor('c1 in the catalog', async () => ((await consul.catalog.node.list()) as Any[]).some((n) => n.Node === 'c1'), { timeoutMs: 15_000 });
  }, 40_000);

  it('agent.service.register/list/maintenance/deregister and agent.check.register/list/pass/warn/fail/deregister', async () => {
    await client.agent.service.register({ name: 'web', id: 'web-1', tags: ['v1'], address: C1, port: 9000, meta: { env: 'test' }, check: { ttl: '30s', notes: 'ttl' } as never });
    const services: Any = await client.agent.service.list();
    expect(services['web-1']).toMatchObject({ ID: 'web-1', Service: 'web', Tags: ['v1'], Port: 9000, Address: C1, Meta: { env: 'test' } });

    await client.agent.check.register({ name: 'disk', id: 'disk', ttl: '30s' } as never);
    const statusOf = async (id: string) => ((await client.agent.check.list()) as Any)[id]?.Status;
    expect(await statusOf('disk')).toBe('critical');
    await client.agent.check.pass({ id: 'disk', note: 'fine' });
    expect(await statusOf('disk')).toBe('passing');
    await client.agent.check.warn({ id: 'disk', note: 'filling' });
    expect(await statusOf('disk')).toBe('warning');
    await client.agent.check.fail({ id: 'disk', note: 'full' });
    expect(((await client.agent.check.list()) as Any)['disk']).toMatchObject({ Status: 'critical', Output: 'full' });
    await client.agent.check.deregister('disk');
    expect(await statusOf('disk')).toBeUndefined();
    await client.agent.check.pass('service:web-1');

    await client.agent.service.maintenance({ id: 'web-1', enable: true, reason: 'deploy' });
    const maint = ((await client.agent.check.list()) as Any)['_service_maintenance:web-1'];
    expect(maint).toMatchObject({ Status: 'critical', Notes: 'deploy', ServiceID: 'web-1' });
    await client.agent.service.maintenance({ id: 'web-1', enable: false });
    expect(((await client.agent.check.list()) as Any)['_service_maintenance:web-1']).toBeUndefined();

    // Seen by the servers through anti-entropy (sync within a second or two; 15 s bounds it).
    const entries: Any[] = await waitFor(
      'web-1 healthy in the catalog',
      async () => {
        const e: Any[] = await consul.health.service({ service: 'web', passing: true });
        return e.length === 1 && e;
      },
      { timeoutMs: 15_000 },
    );
    expect(entries[0].Service).toMatchObject({ ID: 'web-1', Port: 9000 });
    expect(entries[0].Checks.map((c: Any) => c.CheckID).sort()).toEqual(['serfHealth', 'service:web-1']);
  }, 40_000);

  it('agent.maintenance toggles _node_maintenance', async () => {
    await client.agent.maintenance({ enable: true, reason: 'patching' });
    expect(((await client.agent.check.list()) as Any)['_node_maintenance']).toMatchObject({ Status: 'critical', Notes: 'patching' });
    await client.agent.maintenance(false);
    expect(((await client.agent.check.list()) as Any)['_node_maintenance']).toBeUndefined();
  });

  it('catalog: datacenters, register, node.list, node.services, service.list, service.nodes, deregister', async () => {
    expect(await consul.catalog.datacenters()).toEqual(['dc1']);
    await consul.catalog.register({
      node: 'ext1',
      address: '10.9.9.9',
      nodemeta: { rack: 'r1' },
      service: { service: 'db', id: 'db-1', tags: ['primary'], port: 5432 },
      check: { name: 'db alive', checkid: 'db-alive', serviceid: 'db-1', status: 'passing' },
    } as never);
    const nodes: Any[] = await consul.catalog.node.list();
    expect(nodes.find((n) => n.Node === 'ext1')).toMatchObject({ Address: '10.9.9.9', Meta: { rack: 'r1' } });
    expect((await consul.catalog.node.list({ filter: 'Meta.rack == "r1"' } as never) as Any[]).map((n) => n.Node)).toEqual(['ext1']);
    const ext: Any = await consul.catalog.node.services('ext1');
    expect(ext.Node.Node).toBe('ext1');
    expect(Object.keys(ext.Services)).toEqual(['db-1']);
    const svcs: Any = await consul.catalog.service.list();
    expect(svcs['db']).toEqual(['primary']);
    expect(svcs['consul']).toEqual([]);
    const rows: Any[] = await consul.catalog.service.nodes({ service: 'db', tag: 'primary' } as never);
    expect(rows.map((r) => [r.Node, r.ServiceID, r.ServicePort])).toEqual([['ext1', 'db-1', 5432]]);

    await consul.catalog.deregister({ node: 'ext1', serviceid: 'db-1' } as never);
    expect(await consul.catalog.service.nodes('db')).toEqual([]);
    await consul.catalog.deregister('ext1');
    expect(((await consul.catalog.node.list()) as Any[]).some((n) => n.Node === 'ext1')).toBe(false);
  });

  it('health: node, checks, service, state', async () => {
    const node: Any[] = await consul.health.node('c1');
    expect(node.map((c) => c.CheckID).sort()).toEqual(['serfHealth', 'service:web-1']);
    const checks: Any[] = await consul.health.checks('web');
    expect(checks.map((c) => [c.CheckID, c.Status])).toEqual([['service:web-1', 'passing']]);
    expect(((await consul.health.service({ service: 'web', tag: 'v1' })) as Any[]).length).toBe(1);
    expect(((await consul.health.service({ service: 'web', tag: 'v2' })) as Any[]).length).toBe(0);
    const passing: Any[] = await consul.health.state('passing');
    expect(passing.map((c) => `${c.Node}/${c.CheckID}`)).toEqual(expect.arrayContaining(['s1/serfHealth', 'c1/serfHealth', 'c1/service:web-1']));
    expect(((await consul.health.state({ state: 'critical', consistent: true } as never)) as Any[]).length).toBe(0);
  });

  it('kv: set (flags, cas, acquire/release), get (recurse, raw meta), keys, del (cas, recurse)', async () => {
    expect(await consul.kv.set({ key: 'app/one', value: '1', flags: 42 })).toBe(true);
    const one: Any = await consul.kv.get('app/one');
    expect(one).toMatchObject({ Key: 'app/one', Value: '1', Flags: 42 });
    expect(await consul.kv.set({ key: 'app/one', value: '2', cas: one.ModifyIndex + 1000 })).not.toBe(true);
    expect(await consul.kv.set({ key: 'app/one', value: '2', cas: one.ModifyIndex })).toBe(true);
    await consul.kv.set('app/dir/two', '2');
    expect(await consul.kv.keys('app/')).toEqual(['app/dir/two', 'app/one']);
    expect(await consul.kv.keys({ key: 'app/', separator: '/' } as never)).toEqual(['app/dir/', 'app/one']);
    expect(((await consul.kv.get({ key: 'app/', recurse: true })) as Any[]).map((e) => [e.Key, e.Value])).toEqual([
      ['app/dir/two', '2'],
      ['app/one', '2'],
    ]);
    const current: Any = await consul.kv.get('app/one');
    expect(await consul.kv.del({ key: 'app/one', cas: current.ModifyIndex + 1000 })).not.toBe(true);
    expect(await consul.kv.del({ key: 'app/one', cas: current.ModifyIndex })).toBe(true);
    expect(await consul.kv.get('app/one')).toBeUndefined();
    expect(await consul.kv.del({ key: 'app/', recurse: true })).toBe(true);
    // An empty listing is a 404, as in Consul; node-consul's keys() rejects on it.
    await expect(consul.kv.keys('app/')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('session: create (checks, ttl, behavior), info, node, list, renew; a lock with it; destroy', async () => {
    const { ID: held } = (await consul.session.create({ name: 'leader', ttl: '30s', lockdelay: '1s', behavior: 'delete', node: 's1', checks: ['serfHealth'] })) as Any;
    const info: Any = await consul.session.info(held);
    expect(info).toMatchObject({ ID: held, Name: 'leader', TTL: '30s', Node: 's1', Behavior: 'delete', LockDelay: 1e9, NodeChecks: ['serfHealth'] });
    expect(((await consul.session.node('s1')) as Any[]).map((s) => s.ID)).toContain(held);
    expect(((await consul.session.list()) as Any[]).map((s) => s.ID)).toContain(held);
    expect(((await consul.session.renew(held)) as Any[])[0].ID).toBe(held);

    expect(await consul.kv.set({ key: 'svc/leader', value: 's1', acquire: held })).toBe(true);
    expect(((await consul.kv.get('svc/leader')) as Any).Session).toBe(held);
    await consul.session.destroy(held);
    // behavior=delete: the held key goes with the session.
    expect(await consul.kv.get('svc/leader')).toBeUndefined();
    expect(await consul.session.info(held)).toBeUndefined();

    const { ID: other } = (await consul.session.create({ name: 'plain' })) as Any;
    expect(await consul.kv.set({ key: 'svc/lock', value: 'x', acquire: other })).toBe(true);
    expect(await consul.kv.set({ key: 'svc/lock', value: 'x', release: other })).toBe(true);
    expect(((await consul.kv.get('svc/lock')) as Any).Session).toBeUndefined();
    await consul.session.destroy(other);
  });

  it('transaction.create: all-or-nothing KV ops', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const txn = consul.transaction.create.bind(consul.transaction) as unknown as (ops: unknown[]) => Promise<Any>;
    const ok: Any = await txn([
      { KV: { Verb: 'set', Key: 'tx/a', Value: b64('A') } },
      { KV: { Verb: 'set', Key: 'tx/b', Value: b64('B') } },
      { KV: { Verb: 'get', Key: 'tx/a' } },
    ]);
    expect(ok.Errors).toBeNull();
    expect(ok.Results[2].KV).toMatchObject({ Key: 'tx/a', Value: b64('A') });
    await expect(
      txn([
        { KV: { Verb: 'set', Key: 'tx/c', Value: b64('C') } },
        { KV: { Verb: 'check-not-exists', Key: 'tx/a' } },
      ]),
    ).rejects.toMatchObject({ statusCode: 409 });
    expect(await consul.kv.get('tx/c')).toBeUndefined();
  });

  it('query: create, list, get, update, execute, explain, destroy', async () => {
    const { ID: id } = (await consul.query.create({ name: 'web-q', service: { service: 'web', onlypassing: true, tags: ['v1'] }, dns: { ttl: '10s' } } as never)) as Any;
    expect(((await consul.query.list()) as Any[]).map((q) => q.ID)).toEqual([id]);
    const got: Any = await consul.query.get(id);
    expect(got).toMatchObject({ ID: id, Name: 'web-q', Service: { Service: 'web', OnlyPassing: true, Tags: ['v1'] }, DNS: { TTL: '10s' } });
    const run: Any = await consul.query.execute('web-q');
    expect(run).toMatchObject({ Service: 'web', Datacenter: 'dc1', DNS: { TTL: '10s' } });
    expect(run.Nodes.map((n: Any) => n.Node.Node)).toEqual(['c1']);
    await consul.query.update({ query: id, name: 'web-q', service: { service: 'web', tags: ['v2'] } } as never);
    expect(((await consul.query.execute(id)) as Any).Nodes).toEqual([]);
    // Consul answers explain with {"Query": …}, but node-consul's explain() keeps only the first
    // element of an array body, so it resolves undefined against Consul too; the body itself:
    expect(await consul.query.explain(id)).toBeUndefined();
    const explained = JSON.parse((await http(`http://${S1}:8500/v1/query/${id}/explain`)).text);
    expect(explained.Query.Service.Tags).toEqual(['v2']);
    await (consul.query as unknown as { destroy(id: string): Promise<void> }).destroy(id);
    expect(await consul.query.list()).toEqual([]);
    await expect(consul.query.get(id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('watch: a blocking query loop sees each change', async () => {
    await consul.kv.set('watched', 'a');
    const seen: string[] = [];
    const errors: string[] = [];
    const watch = consul.watch({ method: consul.kv.get, options: { key: 'watched', wait: '5s' } as never });
    watch.on('change', (data: Any) => seen.push(data?.Value ?? '(none)'));
    watch.on('error', (e: Error) => errors.push(e.message));
    try {
      // The first answer comes at once; the change wakes the parked read at once; 15 s bounds both.
      await waitFor('the first result', async () => seen.length >= 1, { timeoutMs: 15_000, intervalMs: 50 });
      await consul.kv.set('watched', 'b');
      await waitFor('the change', async () => seen.length >= 2, { timeoutMs: 15_000, intervalMs: 50, context: () => JSON.stringify({ seen, errors }) });
    } finally {
      watch.end();
    }
    expect(seen.slice(0, 2)).toEqual(['a', 'b']);
    expect(errors).toEqual([]);
  });

  it('acl.bootstrap answers 401 ACL support disabled (ACLs are not enabled on this agent)', async () => {
    await expect(consul.acl.bootstrap()).rejects.toMatchObject({ statusCode: 401, message: expect.stringContaining('ACL support disabled') });
  });

  it('agent.service.deregister removes the service from the agent and the catalog', async () => {
    await client.agent.service.deregister('web-1');
    expect(((await client.agent.service.list()) as Any)['web-1']).toBeUndefined();
    // Anti-entropy removes it from the servers within a second or two; 15 s bounds it.
    await waitFor('web gone from the catalog', async () => ((await consul.catalog.service.nodes('web')) as Any[]).length === 0, { timeoutMs: 15_000 });
  }, 30_000);

  it('agent.forceLeave moves a failed member to left', async () => {
    await group.kill9(c1);
    // serf marks c1 failed after probe timeouts and suspicion (~5 s for two nodes); 30 s bounds it.
    await waitFor('c1 failed', async () => ((await consul.agent.members()) as Any[]).find((m) => m.Name === 'c1')?.Status === 4, {
      timeoutMs: 30_000,
      context: () => group.tails(10),
    });
    await consul.agent.forceLeave('c1');
    await waitFor('c1 left', async () => ((await consul.agent.members()) as Any[]).find((m) => m.Name === 'c1')?.Status === 3, { timeoutMs: 10_000 });
  }, 50_000);
});
