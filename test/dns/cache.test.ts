// The DNS answer cache (core/dns/cache.ts) and answering from the real catalog FSM.
import { describe, expect, it } from 'vitest';
import { resolveQuery } from '../../core/dns/answer.ts';
import { DnsAnswerCache } from '../../core/dns/cache.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { readMessage, nameText } from '../../core/dns/wire.ts';
import { makeRng } from '../../core/rng.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import type { CatalogView } from '../../core/catalog/types.ts';
import { walkthroughView } from './fake-view.ts';
import { ctxFor } from './helpers.ts';

const QUERIES: [string, string][] = [
  ['web3.service.consul', 'SRV'],
  ['web3.service.consul', 'A'],
  ['Web3.Service.Consul', 'SRV'],
  ['n2.node.consul', 'A'],
  ['nothere.service.consul', 'SRV'],
  ['master.web3.service.consul', 'SRV'],
  ['web3.service.consul', 'AAAA'],
];

function targets(bytes: Uint8Array): string[] {
  return readMessage(bytes).answers.flatMap((a) => (a.data.kind === 'srv' ? [nameText(a.data.target)] : []));
}

describe('DnsAnswerCache', () => {
  it('gives byte-identical replies and logs to the uncached path for the same seed', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'warning');
    view.addNode('n4', '10.0.0.4').addService('n4', 'web3', 'web3', { port: 10000 }).setCheck('n4', 'service:web3', 'critical');
    const cached = { ...ctxFor(view, { rng: makeRng('same') }), cache: new DnsAnswerCache() };
    const plain = ctxFor(view, { rng: makeRng('same') });
    for (let i = 0; i < 60; i++) {
      const [name, type] = QUERIES[i % QUERIES.length]!;
      const q = buildQuery(name, type, { id: i, ednsPayloadBytes: i % 3 === 0 ? 1232 : undefined });
      const a = resolveQuery(q, cached);
      const b = resolveQuery(q, plain);
      expect(a, `${name} ${type}`).toEqual(b);
    }
    expect(cached.cache.size).toBe(QUERIES.length);
  });

  it('forgets everything when the view index moves (a check goes critical)', () => {
    const view = walkthroughView();
    const ctx = { ...ctxFor(view), cache: new DnsAnswerCache() };
    const q = buildQuery('web3.service.consul', 'SRV', { id: 1 });
    const before = resolveQuery(q, ctx);
    expect(before.kind === 'reply' && targets(before.bytes).sort()).toEqual(['n2.node.dc1.consul.', 'n3.node.dc1.consul.']);
    view.setCheck('n2', 'service:web3', 'critical');
    const after = resolveQuery(q, ctx);
    expect(after.kind === 'reply' && targets(after.bytes)).toEqual(['n3.node.dc1.consul.']);
    expect(after.logs.map((l) => l.text)).toEqual(["node 'n2' failing health check 'service:web3: Service 'web3' check', dropping from service 'web3'"]);
    // logged again on a cache hit, as Consul logs per query
    expect(resolveQuery(q, ctx).logs).toHaveLength(1);
  });

  it('does not serve one view’s answers for another view at the same index', () => {
    const cache = new DnsAnswerCache();
    const a = walkthroughView();
    const b = walkthroughView().setCheck('n3', 'serfHealth', 'critical');
    a.index = b.index;
    const q = buildQuery('web3.service.consul', 'SRV', { id: 1 });
    resolveQuery(q, { ...ctxFor(a), cache });
    const r = resolveQuery(q, { ...ctxFor(b), cache });
    expect(r.kind === 'reply' && targets(r.bytes)).toEqual(['n2.node.dc1.consul.']);
  });

  it('stays bounded under a flood of distinct names', () => {
    const cache = new DnsAnswerCache(100);
    const ctx = { ...ctxFor(walkthroughView()), cache };
    for (let i = 0; i < 1000; i++) resolveQuery(buildQuery(`x${i}.service.consul`, 'A', { id: i }), ctx);
    expect(cache.size).toBeLessThanOrEqual(100);
  });
});

describe('answering from the catalog FSM', () => {
  function fsmWalkthrough(): { fsm: CatalogFSM; next: () => number } {
    const fsm = new CatalogFSM();
    let index = 0;
    const next = (): number => ++index;
    const nodes: [string, string][] = [['n1', '10.10.105.71'], ['n2', '10.10.126.101'], ['n3', '10.10.126.187']];
    for (const [node, address] of nodes) {
      const r = fsm.apply(next(), {
        op: 'register',
        nowMs: 0,
        node: { Node: node, Address: address },
        checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' }],
      });
      expect(r.ok).toBe(true);
      if (node === 'n1') continue;
      const s = fsm.apply(next(), {
        op: 'register',
        nowMs: 0,
        node: { Node: node, Address: address },
        service: { ID: 'web3', Service: 'web3', Tags: ['master'], Address: '127.0.0.1', Port: 10000 },
        checks: [{ CheckID: 'service:web3', Name: "Service 'web3' check", Status: 'passing', ServiceID: 'web3' }],
      });
      expect(s.ok).toBe(true);
    }
    return { fsm, next };
  }

  it('answers the walkthrough SRV query, then drops n2 when its check goes critical and n3 when its agent fails', () => {
    const { fsm, next } = fsmWalkthrough();
    const view: CatalogView = fsm;
    const ctx = { ...ctxFor(view), cache: new DnsAnswerCache() };
    const q = buildQuery('web3.service.consul', 'SRV', { id: 6713 });
    const first = resolveQuery(q, ctx);
    expect(first.kind === 'reply' && first.bytes.length).toBe(219);
    expect(first.kind === 'reply' && targets(first.bytes).sort()).toEqual(['n2.node.dc1.consul.', 'n3.node.dc1.consul.']);

    expect(fsm.apply(next(), { op: 'updateCheckStatus', nowMs: 0, node: 'n2', checkId: 'service:web3', status: 'critical' }).ok).toBe(true);
    const second = resolveQuery(q, ctx);
    expect(second.kind === 'reply' && targets(second.bytes)).toEqual(['n3.node.dc1.consul.']);
    expect(second.kind === 'reply' && second.bytes.length).toBe(128);

    expect(fsm.apply(next(), { op: 'updateCheckStatus', nowMs: 0, node: 'n3', checkId: 'serfHealth', status: 'critical' }).ok).toBe(true);
    const third = resolveQuery(q, ctx);
    expect(third.kind === 'reply' && third.rcode).toBe(3);

    const node = resolveQuery(buildQuery('n2.node.dc1.consul', 'A', { id: 2 }), ctx);
    expect(node.kind === 'reply' && readMessage(node.bytes).answers.map((a) => (a.data.kind === 'a' ? a.data.address : ''))).toEqual(['10.10.126.101']);
  });
});
