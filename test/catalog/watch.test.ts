// Blocking-query granularity (#21): per-service and per-node indexes, change keys, and the
// WatchRegistry that finds who to wake. A read wakes only when what it reads moved.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { executeQuery, watchFor } from '../../core/rpc/query.ts';
import type { Query } from '../../core/rpc/types.ts';
import { WatchRegistry, type CatalogWatch } from '../../core/catalog/watch.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { Harness, type Cmd } from './harness.ts';

function registerService(h: Harness, node: string, id: string, service: string, port = 80): void {
  h.ok({
    op: 'register',
    node: { Node: node, Address: `10.0.0.${node.length}` },
    service: { ID: id, Service: service, Port: port },
    checks: [{ CheckID: `service:${id}`, Name: id, Status: 'passing', ServiceID: id }],
  });
}

describe('per-service and per-node indexes', () => {
  it('a service index moves with its instances, their checks and their nodes only', () => {
    const h = new Harness();
    h.node('n1');
    h.node('n2');
    registerService(h, 'n1', 'web1', 'web');
    registerService(h, 'n2', 'db1', 'db');
    const web = (): number => h.fsm.indexFor({ kind: 'service', service: 'web' });
    const n2 = (): number => h.fsm.indexFor({ kind: 'node', node: 'n2' });
    const start = web();
    registerService(h, 'n2', 'db2', 'db', 81);
    h.ok({ op: 'updateCheckStatus', node: 'n2', checkId: 'serfHealth', status: 'critical' });
    h.ok({ op: 'kvSet', key: 'x', value: new Uint8Array([1]) });
    expect(web()).toBe(start);
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'service:web1', status: 'warning' });
    expect(web()).toBe(h.index);
    const afterCheck = web();
    h.ok({ op: 'updateCheckStatus', node: 'n1', checkId: 'serfHealth', status: 'warning' });
    expect(web()).toBe(h.index);
    expect(web()).toBeGreaterThan(afterCheck);
    const n2Before = n2();
    registerService(h, 'n1', 'web2', 'web', 81);
    expect(n2()).toBe(n2Before);
    h.ok({ op: 'deregister', node: 'n1', serviceId: 'web1' });
    expect(web()).toBe(h.index);
    // A re-registration that changes nothing moves nothing (anti-entropy must not wake watchers).
    const still = web();
    registerService(h, 'n1', 'web2', 'web', 81);
    expect(web()).toBe(still);
  });

  it('an unknown name reads as 0 until it is written; snapshots carry the indexes', () => {
    const h = new Harness();
    h.node('n1');
    expect(h.fsm.indexFor({ kind: 'service', service: 'nope' })).toBe(0);
    registerService(h, 'n1', 'a', 'nope');
    const at = h.index;
    expect(h.fsm.indexFor({ kind: 'service', service: 'nope' })).toBe(at);
    h.node('n2');
    h.node('n3');
    const restored = CatalogFSM.restore(h.fsm.snapshot());
    expect(restored.indexFor({ kind: 'service', service: 'nope' })).toBe(at);
    expect(restored.indexFor({ kind: 'node', node: 'n3' })).toBe(h.index);
    expect(restored.indexFor({ kind: 'service', service: 'other' })).toBe(0);
  });

  it('a snapshot from before these indexes reads every name as its index (each watcher wakes once)', () => {
    const h = new Harness();
    h.node('n1');
    registerService(h, 'n1', 'a', 'web');
    const doc = JSON.parse(new TextDecoder().decode(h.fsm.snapshot()));
    delete doc.serviceIndex;
    delete doc.nodeIndex;
    delete doc.entityIndexBase;
    const old = CatalogFSM.restore(new TextEncoder().encode(JSON.stringify(doc)));
    expect(old.indexFor({ kind: 'service', service: 'anything' })).toBe(h.index);
  });

  it('a committed transaction reports its changes; a restore makes every parked read a candidate', () => {
    const h = new Harness();
    h.node('n1');
    h.fsm.takeChanges();
    h.txn([{ Node: { Verb: 'set', Node: { Node: 'n9', Address: '10.0.0.9' } } }]);
    expect(h.fsm.takeChanges().has('n:n9')).toBe(true);
    const reg = new WatchRegistry();
    reg.add(1, { kind: 'service', service: 'a' });
    reg.add(2, { kind: 'kvKey', key: 'k' });
    h.ok({ op: 'restore', snapshot: h.fsm.snapshot() } as Cmd);
    expect(reg.candidates(h.fsm.takeChanges())).toEqual([1, 2]);
  });

  it('takeChanges names the tables, services and nodes an apply touched', () => {
    const h = new Harness();
    h.node('n1');
    h.fsm.takeChanges();
    registerService(h, 'n1', 'web1', 'web');
    expect([...h.fsm.takeChanges()].sort()).toEqual(['n:n1', 's:web', 't:checks', 't:services']);
    expect(h.fsm.takeChanges().size).toBe(0);
  });
});

/** Parks one health watcher per service and counts, per write, how many must wake. */
function wakeUpsPerWrite(services: number, watch: (service: string) => CatalogWatch): number[] {
  const h = new Harness();
  for (let i = 0; i < services; i++) registerService(h, `n${i % 50}`, `svc${i}`, `svc${i}`, 1000 + i);
  const reg = new WatchRegistry();
  const parked = new Map<number, { watch: CatalogWatch; minIndex: number }>();
  const park = (id: number): void => {
    const w = watch(`svc${id}`);
    parked.set(id, { watch: w, minIndex: h.fsm.indexFor(w) });
    reg.add(id, w);
  };
  for (let i = 0; i < services; i++) park(i);
  h.fsm.takeChanges();
  const counts: number[] = [];
  for (let k = 0; k < 20; k++) {
    const i = (k * 37) % services;
    const check = h.fsm.nodeChecks(`n${i % 50}`).find((c) => c.CheckID === `service:svc${i}`)!;
    h.ok({ op: 'updateCheckStatus', node: check.Node, checkId: check.CheckID, status: check.Status === 'passing' ? 'critical' : 'passing' });
    let woken = 0;
    for (const id of reg.candidates(h.fsm.takeChanges())) {
      const p = parked.get(id)!;
      if (h.fsm.indexFor(p.watch) <= p.minIndex) continue;
      woken++;
      reg.remove(id);
      park(id); // the client comes straight back with the new index
    }
    counts.push(woken);
  }
  return counts;
}

describe('wake-ups per write', () => {
  it('1,000 watchers on 1,000 services: a check change wakes exactly its service’s watcher (table-level woke all 1,000)', () => {
    const table = wakeUpsPerWrite(1000, () => ({ kind: 'tables', tables: ['nodes', 'services', 'checks'] }));
    expect(table.every((n) => n === 1000)).toBe(true);
    const perService = wakeUpsPerWrite(1000, (service) => ({ kind: 'service', service }));
    expect(perService).toEqual(Array(20).fill(1));
  });

  it('property: any change to what a read returns moves its index, and the registry names it', () => {
    const nodes = ['n0', 'n1', 'n2'];
    const names = ['a', 'b'];
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ n: fc.constantFrom(...nodes), addr: fc.constantFrom('10.0.0.1', '10.0.0.2'), env: fc.constantFrom('dev', 'prod') }).map(
        ({ n, addr, env }): Cmd => ({ op: 'register', node: { Node: n, Address: addr, Meta: { env } }, checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' }] }),
      ),
      fc.record({ n: fc.constantFrom(...nodes), id: fc.constantFrom('s1', 's2', 's3'), name: fc.constantFrom(...names), port: fc.constantFrom(80, 81) }).map(
        ({ n, id, name, port }): Cmd => ({
          op: 'register',
          node: { Node: n, Address: '10.0.0.1' },
          service: { ID: id, Service: name, Port: port },
          checks: [{ CheckID: `service:${id}`, Name: id, Status: 'passing', ServiceID: id }],
        }),
      ),
      fc.record({ n: fc.constantFrom(...nodes), c: fc.constantFrom('serfHealth', 'service:s1', 'service:s2', 'service:s3'), st: fc.constantFrom('passing', 'warning', 'critical') }).map(
        ({ n, c, st }): Cmd => ({ op: 'updateCheckStatus', node: n, checkId: c, status: st as 'passing' }),
      ),
      fc.record({ n: fc.constantFrom(...nodes), what: fc.constantFrom('node', 's1', 's2', 'service:s3', 'serfHealth') }).map(({ n, what }): Cmd =>
        what === 'node' ? { op: 'deregister', node: n } : what.includes(':') || what === 'serfHealth' ? { op: 'deregister', node: n, checkId: what } : { op: 'deregister', node: n, serviceId: what },
      ),
      fc.constantFrom<Cmd>({ op: 'kvSet', key: 'k', value: new Uint8Array([1]) }),
    );
    const queries: Query[] = [
      ...names.flatMap((service): Query[] => [
        { q: 'healthService', service, passingOnly: false },
        { q: 'catalogService', service },
        { q: 'healthChecks', service },
      ]),
      ...nodes.flatMap((node): Query[] => [{ q: 'catalogNode', node }, { q: 'healthNode', node }]),
      { q: 'catalogNodes' },
      { q: 'catalogServices' },
      { q: 'healthState', state: 'any' },
    ];
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        const h = new Harness();
        const reg = new WatchRegistry();
        queries.forEach((q, i) => reg.add(i, watchFor(q)));
        let before = queries.map((q) => executeQuery(h.fsm, q));
        for (const c of cmds) {
          h.apply(c);
          const candidates = new Set(reg.candidates(h.fsm.takeChanges()));
          const after = queries.map((q) => executeQuery(h.fsm, q));
          queries.forEach((q, i) => {
            const changed = JSON.stringify(after[i]!.value) !== JSON.stringify(before[i]!.value);
            if (changed) expect(after[i]!.index, `${JSON.stringify(q)} after ${JSON.stringify(c)}`).toBeGreaterThan(before[i]!.index);
            if (after[i]!.index !== before[i]!.index) expect(candidates.has(i), `${JSON.stringify(q)} not named`).toBe(true);
            expect(after[i]!.index).toBeGreaterThanOrEqual(before[i]!.index);
          });
          before = after;
        }
      }),
      { numRuns: 200 },
    );
  });
});
