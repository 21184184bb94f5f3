// Catalog part of the FSM: register/deregister, check status, health reads, table indexes.
import { describe, expect, it } from 'vitest';
import { Harness } from './harness.ts';
import { READ_TABLES } from '../../core/catalog/watch.ts';

const web = (h: Harness, node: string, extra: Record<string, unknown> = {}) =>
  h.ok({ op: 'register', node: { Node: node, Address: `10.0.0.${node.slice(1)}` }, service: { Service: 'web', Tags: ['v1'], Port: 80, ...extra } });

describe('register', () => {
  it('upserts a node and bumps only the nodes table', () => {
    const h = new Harness();
    h.ok({ op: 'register', node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', Meta: { z: '1', a: '2' } } });
    expect(h.fsm.node('n1')).toEqual({
      ID: '',
      Node: 'n1',
      Address: '10.0.0.1',
      Datacenter: 'dc1',
      TaggedAddresses: {},
      Meta: { a: '2', z: '1' },
      CreateIndex: 1,
      ModifyIndex: 1,
    });
    expect(Object.keys(h.fsm.node('n1')!.Meta)).toEqual(['a', 'z']);
    expect(h.fsm.tableIndexes()).toEqual({ nodes: 1, services: 0, checks: 0, kvs: 0, sessions: 0 });
    expect(h.fsm.lastIndex()).toBe(1);
  });

  it('fills service defaults: ID = name, empty tags, weights 1/1', () => {
    const h = new Harness();
    h.ok({ op: 'register', node: { Node: 'n1', Address: '10.0.0.1' }, service: { Service: 'redis' } });
    expect(h.fsm.nodeServices('n1')).toEqual([
      {
        Node: 'n1',
        ID: 'redis',
        Service: 'redis',
        Tags: [],
        Address: '',
        Meta: {},
        Port: 0,
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        CreateIndex: 1,
        ModifyIndex: 1,
      },
    ]);
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: 1, services: 1, checks: 0 });
  });

  it('identical re-registration changes nothing (anti-entropy does not wake watchers)', () => {
    const h = new Harness();
    web(h, 'n1');
    const before = h.fsm.tableIndexes();
    web(h, 'n1');
    expect(h.fsm.tableIndexes()).toEqual(before);
    expect(h.fsm.nodeServices('n1')[0]!.ModifyIndex).toBe(1);
    expect(h.fsm.lastIndex()).toBe(2);
  });

  it('a changed service keeps CreateIndex, gets a new ModifyIndex, and leaves the node alone', () => {
    const h = new Harness();
    web(h, 'n1');
    web(h, 'n1', { Port: 8080 });
    const svc = h.fsm.nodeServices('n1')[0]!;
    expect([svc.CreateIndex, svc.ModifyIndex, svc.Port]).toEqual([1, 2, 8080]);
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: 1, services: 2 });
    expect(h.fsm.node('n1')!.ModifyIndex).toBe(1);
  });

  it('a service check gets ServiceName and ServiceTags; status defaults to critical; CheckID to Name', () => {
    const h = new Harness();
    h.ok({
      op: 'register',
      node: { Node: 'n1', Address: '10.0.0.1' },
      service: { ID: 'web-1', Service: 'web', Tags: ['a', 'b'] },
      checks: [{ Name: 'web alive', ServiceID: 'web-1' }],
    });
    expect(h.fsm.nodeChecks('n1')).toEqual([
      {
        Node: 'n1',
        CheckID: 'web alive',
        Name: 'web alive',
        Status: 'critical',
        Notes: '',
        Output: '',
        ServiceID: 'web-1',
        ServiceName: 'web',
        ServiceTags: ['a', 'b'],
        Type: '',
        CreateIndex: 1,
        ModifyIndex: 1,
      },
    ]);
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: 1, services: 1, checks: 1 });
  });

  it('re-tagging a service refreshes its checks', () => {
    const h = new Harness();
    h.ok({ op: 'register', node: { Node: 'n1', Address: 'a' }, service: { Service: 'web', Tags: ['v1'] }, checks: [{ CheckID: 'service:web', Name: 'c', ServiceID: 'web' }] });
    h.ok({ op: 'register', node: { Node: 'n1', Address: 'a' }, service: { Service: 'web', Tags: ['v2'] } });
    const ch = h.fsm.nodeChecks('n1')[0]!;
    expect(ch.ServiceTags).toEqual(['v2']);
    expect(ch.ModifyIndex).toBe(2);
    expect(h.fsm.tableIndex('checks')).toBe(2);
  });

  it('a check for a service the node lacks is refused and changes nothing', () => {
    const h = new Harness();
    h.ok({ op: 'register', node: { Node: 'n1', Address: 'a' } });
    const snap = h.fsm.tableIndexes();
    expect(h.err({ op: 'register', node: { Node: 'n1', Address: 'b' }, checks: [{ Name: 'x', ServiceID: 'nope' }] })).toBe('Missing service registration');
    expect(h.fsm.node('n1')!.Address).toBe('a');
    expect(h.fsm.tableIndexes()).toEqual(snap);
    expect(h.fsm.lastIndex()).toBe(2);
  });

  it.each([
    [{ op: 'register', node: { Node: '', Address: 'a' } }, 'Must provide node'],
    [{ op: 'register', node: { Node: 'n1', Address: '' } }, 'Must provide address'],
    [{ op: 'register', node: { Node: 'n1', Address: 'a' }, service: { ID: 'x', Service: '' } }, 'Must provide service name with ID'],
    [{ op: 'register', node: { Node: 'n1', Address: 'a' }, checks: [{ Name: '' }] }, 'Must provide check ID or name'],
    [{ op: 'deregister', node: '' }, 'Must provide node'],
    [{ op: 'updateCheckStatus', node: 'n1', checkId: 'c', status: 'unknown' }, "field 'status' must be one of"],
    [{ op: 'register', node: { Node: 'n1', Address: 'a' }, service: { Service: 's', Port: -1 } }, "field 'service.Port' must be"],
    [{ op: 'register', node: { Node: 'n1', Address: 'a' }, checks: [{ Name: 'c', Status: 'bad' }] }, "field 'checks.0.Status'"],
  ])('refuses %j with %s', (cmd, msg) => {
    const h = new Harness();
    expect(h.err(cmd as never)).toContain(msg);
    expect(h.fsm.nodes()).toEqual([]);
  });
});

describe('deregister', () => {
  function populated(): Harness {
    const h = new Harness();
    h.node('n1');
    h.ok({
      op: 'register',
      node: { Node: 'n1', Address: '10.0.0.2' },
      service: { Service: 'web' },
      checks: [{ CheckID: 'service:web', Name: 'web', ServiceID: 'web', Status: 'passing' }],
    });
    h.ok({ op: 'register', node: { Node: 'n1', Address: '10.0.0.2' }, service: { Service: 'db' } });
    return h;
  }

  it('a service takes its checks with it, not the node checks', () => {
    const h = populated();
    const nodesIdx = h.fsm.tableIndex('nodes');
    h.ok({ op: 'deregister', node: 'n1', serviceId: 'web' });
    expect(h.fsm.nodeServices('n1').map((s) => s.ID)).toEqual(['db']);
    expect(h.fsm.nodeChecks('n1').map((c) => c.CheckID)).toEqual(['serfHealth']);
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: nodesIdx, services: h.index, checks: h.index });
  });

  it('serviceId wins over checkId', () => {
    const h = populated();
    h.ok({ op: 'deregister', node: 'n1', serviceId: 'db', checkId: 'serfHealth' });
    expect(h.fsm.nodeChecks('n1').map((c) => c.CheckID)).toEqual(['serfHealth', 'service:web']);
    expect(h.fsm.nodeServices('n1').map((s) => s.ID)).toEqual(['web']);
  });

  it('a single check', () => {
    const h = populated();
    h.ok({ op: 'deregister', node: 'n1', checkId: 'serfHealth' });
    expect(h.fsm.nodeChecks('n1').map((c) => c.CheckID)).toEqual(['service:web']);
    expect(h.fsm.tableIndexes()).toMatchObject({ services: 3, checks: 4 });
  });

  it('the whole node', () => {
    const h = populated();
    h.ok({ op: 'deregister', node: 'n1' });
    expect(h.fsm.nodes()).toEqual([]);
    expect(h.fsm.nodeServices('n1')).toEqual([]);
    expect(h.fsm.nodeChecks('n1')).toEqual([]);
    expect(h.fsm.services().size).toBe(0);
    expect(h.fsm.tableIndexes()).toMatchObject({ nodes: 4, services: 4, checks: 4, kvs: 0, sessions: 0 });
  });

  it('unknown node, service or check: true and nothing bumped', () => {
    const h = populated();
    const before = h.fsm.tableIndexes();
    expect(h.ok({ op: 'deregister', node: 'ghost' })).toBe(true);
    expect(h.ok({ op: 'deregister', node: 'n1', serviceId: 'ghost' })).toBe(true);
    expect(h.ok({ op: 'deregister', node: 'n1', checkId: 'ghost' })).toBe(true);
    expect(h.fsm.tableIndexes()).toEqual(before);
  });
});

describe('updateCheckStatus', () => {
  it('changes status and output; an unchanged status bumps nothing', () => {
    const h = new Harness();
    h.node('n1');
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'critical', output: 'Agent not live' });
    const ch = h.fsm.nodeChecks('n1')[0]!;
    expect([ch.Status, ch.Output, ch.CreateIndex, ch.ModifyIndex]).toEqual(['critical', 'Agent not live', 1, 2]);
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'critical' });
    expect(h.fsm.tableIndex('checks')).toBe(2);
    expect(h.fsm.nodeChecks('n1')[0]!.Output).toBe('Agent not live');
  });

  it('needs the node and the check', () => {
    const h = new Harness();
    expect(h.err({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'passing' })).toBe('Missing node registration');
    h.ok({ op: 'register', node: { Node: 'n1', Address: 'a' } });
    expect(h.err({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'passing' })).toBe("Missing check 'serfHealth' registration");
  });
});

describe('health and catalog reads', () => {
  function cluster(): Harness {
    const h = new Harness();
    for (const n of ['n3', 'n1', 'n2']) {
      h.node(n);
      h.ok({
        op: 'register',
        node: { Node: n, Address: `10.0.0.${n.length}` },
        service: { ID: 'web3', Service: 'web3', Tags: n === 'n1' ? ['Primary', 'b'] : ['a'], Port: 10000 },
        checks: [{ CheckID: 'service:web3', Name: "Service 'web3' check", ServiceID: 'web3', Status: 'passing' }],
      });
    }
    h.ok({ op: 'register', node: { Node: 'n2', Address: '10.0.0.2' }, service: { ID: 'web3-b', Service: 'web3', Tags: ['a'] } });
    h.ok({ op: 'register', node: { Node: 'n1', Address: '10.0.0.2' }, service: { Service: 'consul', Port: 8300 } });
    return h;
  }

  it('instances sorted by node then ID, each with its own checks plus node checks', () => {
    const h = cluster();
    const inst = h.fsm.serviceInstances('web3');
    expect(inst.map((i) => `${i.Node.Node}/${i.Service.ID}`)).toEqual(['n1/web3', 'n2/web3', 'n2/web3-b', 'n3/web3']);
    expect(inst[0]!.Checks.map((c) => c.CheckID)).toEqual(['serfHealth', 'service:web3']);
    expect(inst[2]!.Checks.map((c) => c.CheckID)).toEqual(['serfHealth']);
  });

  it('passingOnly drops instances with any non-passing check, node checks included', () => {
    const h = cluster();
    expect(h.fsm.healthService('web3', { passingOnly: true })).toHaveLength(4);
    h.ok({ op: 'updateCheckStatus', node: 'n2', checkId: 'serfHealth', status: 'critical' });
    h.ok({ op: 'updateCheckStatus', node: 'n3', checkId: 'service:web3', status: 'warning' });
    const passing = h.fsm.healthService('web3', { passingOnly: true });
    expect(passing.map((i) => `${i.Node.Node}/${i.Service.ID}`)).toEqual(['n1/web3']);
    expect(h.fsm.healthService('web3')).toHaveLength(4);
  });

  it('tag filter is case-insensitive', () => {
    const h = cluster();
    expect(h.fsm.healthService('web3', { tag: 'primary' }).map((i) => i.Node.Node)).toEqual(['n1']);
    expect(h.fsm.healthService('web3', { tag: 'a' }).map((i) => i.Service.ID)).toEqual(['web3', 'web3-b', 'web3']);
    expect(h.fsm.healthService('web3', { tag: 'zzz' })).toEqual([]);
  });

  it('services() unions tags per name, sorted', () => {
    const h = cluster();
    expect([...h.fsm.services()]).toEqual([
      ['consul', []],
      ['web3', ['Primary', 'a', 'b']],
    ]);
  });

  it('checksInState, healthChecks and nodeHealth', () => {
    const h = cluster();
    h.ok({ op: 'updateCheckStatus', node: 'n3', checkId: 'service:web3', status: 'critical' });
    expect(h.fsm.checksInState('critical').map((c) => `${c.Node}/${c.CheckID}`)).toEqual(['n3/service:web3']);
    expect(h.fsm.checksInState('any')).toHaveLength(6);
    expect(h.fsm.checksInState('passing')).toHaveLength(5);
    expect(h.fsm.healthChecks('web3').map((c) => c.Node)).toEqual(['n1', 'n2', 'n3']);
    expect(h.fsm.nodeHealth('n1').map((c) => c.CheckID)).toEqual(['serfHealth', 'service:web3']);
    expect(h.fsm.nodes().map((n) => n.Node)).toEqual(['n1', 'n2', 'n3']);
  });

  it('indexFor(tables) is the max over the read’s tables', () => {
    const h = cluster();
    const svcIdx = h.fsm.tableIndex('services');
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'warning' });
    expect(h.fsm.indexFor({ kind: 'tables', tables: READ_TABLES.catalogServices })).toBe(svcIdx);
    expect(h.fsm.indexFor({ kind: 'tables', tables: ['nodes', 'services', 'checks'] })).toBe(h.index);
    expect(h.fsm.indexFor({ kind: 'tables', tables: READ_TABLES.catalogDatacenters })).toBe(0);
  });
});

describe('apply index', () => {
  it('refuses an index that does not advance, without touching state', () => {
    const h = new Harness();
    h.node('n1');
    const r = h.fsm.apply(1, { op: 'deregister', node: 'n1', nowMs: 0 });
    expect(r).toEqual({ ok: false, error: 'catalog: apply index 1 must be an integer above the last applied index 1' });
    expect(h.fsm.node('n1')).toBeDefined();
  });

  it('a failed command still consumes its Raft index', () => {
    const h = new Harness();
    h.err({ op: 'kvSet', key: '', value: new Uint8Array() });
    expect(h.fsm.lastIndex()).toBe(1);
    expect(h.fsm.tableIndexes()).toEqual({ nodes: 0, services: 0, checks: 0, kvs: 0, sessions: 0 });
  });
});
