// Unit tests of the DNS answering core (core/dns/answer.ts) against a fake catalog view.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { answerQuery, resolveQuery } from '../../core/dns/answer.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { makeDnsConfig } from '../../core/dns/config.ts';
import { readMessage } from '../../core/dns/wire.ts';
import { makeRng } from '../../core/rng.ts';
import { FakeView, walkthroughView } from './fake-view.ts';
import { ask, ctxFor, srvTargets } from './helpers.ts';

function manyView(n: number, nodePrefix = 'node'): FakeView {
  const v = new FakeView();
  for (let i = 0; i < n; i++) {
    v.addNode(`${nodePrefix}${i}`, `10.1.0.${i + 1}`).addService(`${nodePrefix}${i}`, 'api', 'api', { port: 8000 + i });
  }
  return v;
}

describe('walkthrough SRV lookup', () => {
  it('answers both web3 instances with SRV 1 1 10000 and the service address in ADDITIONAL (219 bytes)', () => {
    const { packet, bytes } = ask(walkthroughView(), 'web3.service.consul', 'SRV');
    expect(packet.rcode).toBe('NOERROR');
    expect(packet.flag_qr && packet.flag_aa && packet.flag_rd).toBe(true);
    expect(packet.flag_ra).toBe(false);
    expect(packet.flag_tc).toBe(false);
    expect(packet.id).toBe(4242);
    expect(srvTargets(packet).sort()).toEqual(['n2.node.dc1.consul', 'n3.node.dc1.consul']);
    for (const a of packet.answers!) {
      expect(a).toMatchObject({ name: 'web3.service.consul', type: 'SRV', ttl: 0, class: 'IN', data: { priority: 1, weight: 1, port: 10000 } });
    }
    expect(packet.additionals!.map((a) => [a.name, a.type, (a as dnsPacket.StringAnswer).data, (a as dnsPacket.StringAnswer).ttl]).sort()).toEqual([
      ['n2.node.dc1.consul', 'A', '127.0.0.1', 0],
      ['n3.node.dc1.consul', 'A', '127.0.0.1', 0],
    ]);
    expect(packet.authorities).toEqual([]);
    expect(bytes.length).toBe(219);
  });

  it('drops n2 once its web3 check is critical, and logs why (128 bytes)', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'critical');
    const { packet, bytes, logs } = ask(view, 'web3.service.consul', 'SRV');
    expect(srvTargets(packet)).toEqual(['n3.node.dc1.consul']);
    expect(packet.additionals!.map((a) => a.name)).toEqual(['n3.node.dc1.consul']);
    expect(bytes.length).toBe(128);
    expect(logs).toEqual([
      {
        kind: 'log',
        level: 'WARN',
        source: 'dns',
        text: "node 'n2' failing health check 'service:web3: Service 'web3' check', dropping from service 'web3'",
      },
    ]);
  });

  it('hands each log line to ctx.onLog too', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'critical');
    const seen: string[] = [];
    const ctx = { ...ctxFor(view), onLog: (l: { text: string }) => seen.push(l.text) };
    answerQuery(buildQuery('web3.service.consul', 'SRV', { id: 1 }), ctx);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain("node 'n2' failing health check 'service:web3");
  });

  it('drops every instance on a node whose serfHealth is critical (agent stopped)', () => {
    const view = walkthroughView().setCheck('n3', 'serfHealth', 'critical');
    const { packet, logs } = ask(view, 'web3.service.consul', 'SRV');
    expect(srvTargets(packet)).toEqual(['n2.node.dc1.consul']);
    expect(logs[0]!.text).toBe("node 'n3' failing health check 'serfHealth: Serf Health Status', dropping from service 'web3'");
  });

  it('keeps warning instances unless only_passing is set', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'warning');
    expect(srvTargets(ask(view, 'web3.service.consul', 'SRV').packet).sort()).toEqual(['n2.node.dc1.consul', 'n3.node.dc1.consul']);
    expect(srvTargets(ask(view, 'web3.service.consul', 'SRV', { config: { onlyPassing: true } }).packet)).toEqual(['n3.node.dc1.consul']);
  });

  it('ignores critical checks of other services on the same node', () => {
    const view = walkthroughView().addService('n2', 'db', 'db', { port: 5432 }).setCheck('n2', 'service:db', 'critical');
    expect(srvTargets(ask(view, 'web3.service.consul', 'SRV').packet)).toHaveLength(2);
  });

  it('answers NXDOMAIN with the SOA when every instance is unhealthy', () => {
    const view = walkthroughView().setCheck('n2', 'service:web3', 'critical').setCheck('n3', 'service:web3', 'critical');
    const { packet, logs } = ask(view, 'web3.service.consul', 'SRV');
    expect(packet.rcode).toBe('NXDOMAIN');
    expect(packet.authorities![0]!.type).toBe('SOA');
    expect(logs).toHaveLength(2);
  });
});

describe('lookup forms', () => {
  it('TAG.NAME.service.consul filters by tag, case-insensitively', () => {
    const view = walkthroughView().addNode('n4', '10.10.1.4').addService('n4', 'web3', 'web3', { tags: ['slave'], port: 10001 });
    expect(srvTargets(ask(view, 'master.web3.service.consul', 'SRV').packet).sort()).toEqual(['n2.node.dc1.consul', 'n3.node.dc1.consul']);
    expect(srvTargets(ask(view, 'SLAVE.web3.service.consul', 'SRV').packet)).toEqual(['n4.node.dc1.consul']);
    expect(ask(view, 'nope.web3.service.consul', 'SRV').packet.rcode).toBe('NXDOMAIN');
  });

  it('RFC 2782 _NAME._TAG.service.consul, with _tcp meaning no tag filter', () => {
    const view = walkthroughView().addNode('n4', '10.10.1.4').addService('n4', 'web3', 'web3', { tags: ['slave'], port: 10001 });
    expect(srvTargets(ask(view, '_web3._master.service.consul', 'SRV').packet).sort()).toEqual(['n2.node.dc1.consul', 'n3.node.dc1.consul']);
    expect(srvTargets(ask(view, '_web3._tcp.service.consul', 'SRV').packet)).toHaveLength(3);
    expect(ask(view, '_web3._udp.service.consul', 'SRV').packet.rcode).toBe('NXDOMAIN');
  });

  it('accepts the datacenter label when it is ours and answers SERVFAIL for another', () => {
    expect(srvTargets(ask(walkthroughView(), 'web3.service.dc1.consul', 'SRV').packet)).toHaveLength(2);
    const other = ask(walkthroughView(), 'web3.service.dc2.consul', 'SRV');
    expect(other.packet.rcode).toBe('SERVFAIL');
    expect(other.logs.map((l) => l.text)).toEqual(["rpc error: No path to datacenter 'dc2'"]);
  });

  it('A on a service answers its addresses once each (service address, else node address)', () => {
    const a = ask(walkthroughView(), 'web3.service.consul', 'A').packet;
    expect(a.answers!.map((r) => [r.type, (r as dnsPacket.StringAnswer).data])).toEqual([['A', '127.0.0.1']]);
    const v = manyView(3);
    const b = ask(v, 'api.service.consul', 'A').packet;
    expect(b.answers!.map((r) => (r as dnsPacket.StringAnswer).data).sort()).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    expect(b.answers!.every((r) => r.name === 'api.service.consul' && (r as dnsPacket.StringAnswer).ttl === 0)).toBe(true);
  });

  it('NODE.node.consul answers the node address; AAAA on an IPv4-only node is an empty NOERROR', () => {
    const a = ask(walkthroughView(), 'n2.node.consul', 'A').packet;
    expect(a.rcode).toBe('NOERROR');
    expect(a.answers).toEqual([{ name: 'n2.node.consul', type: 'A', ttl: 0, class: 'IN', flush: false, data: '10.10.126.101' }]);
    const aaaa = ask(walkthroughView(), 'n2.node.dc1.consul', 'AAAA').packet;
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answers).toEqual([]);
    expect(aaaa.authorities![0]!.type).toBe('SOA');
    const any = ask(walkthroughView(), 'n3.node.consul', 'ANY').packet;
    expect(any.answers!.map((r) => (r as dnsPacket.StringAnswer).data)).toEqual(['10.10.126.187']);
  });

  it('IPv6 node addresses answer AAAA, host names answer CNAME', () => {
    const view = new FakeView().addNode('six', 'fd00::1').addNode('named', 'host.example.com');
    expect(ask(view, 'six.node.consul', 'AAAA').packet.answers!.map((r) => (r as dnsPacket.StringAnswer).data)).toEqual(['fd00::1']);
    expect(ask(view, 'six.node.consul', 'A').packet.answers).toEqual([]);
    const c = ask(view, 'named.node.consul', 'A').packet.answers!;
    expect(c.map((r) => [r.type, (r as dnsPacket.StringAnswer).data])).toEqual([['CNAME', 'host.example.com']]);
  });

  it('is case-insensitive and echoes the question as asked', () => {
    const { packet } = ask(walkthroughView(), 'WEB3.Service.CONSUL', 'SRV');
    expect(packet.questions![0]!.name).toBe('WEB3.Service.CONSUL');
    expect(packet.answers!.every((a) => a.name === 'WEB3.Service.CONSUL')).toBe(true);
    expect(srvTargets(packet)).toHaveLength(2);
    expect(ask(walkthroughView(), 'N2.NODE.CONSUL', 'A').packet.answers).toHaveLength(1);
  });

  it('serves a configured domain and refuses names outside it', () => {
    const config = { domain: 'Muster.Example' };
    const { packet } = ask(walkthroughView(), 'web3.service.muster.example', 'SRV', { config });
    expect(srvTargets(packet).sort()).toEqual(['n2.node.dc1.muster.example', 'n3.node.dc1.muster.example']);
    expect(ask(walkthroughView(), 'web3.service.consul', 'SRV', { config }).packet.rcode).toBe('REFUSED');
    const nx = ask(walkthroughView(), 'nothere.service.muster.example', 'A', { config }).packet;
    expect(nx.authorities![0]).toMatchObject({ name: 'muster.example', data: { mname: 'ns.muster.example', rname: 'postmaster.muster.example' } });
  });

  it('forwards names outside the domain when recursors are configured, and then sets RA', () => {
    const req = buildQuery('example.org', 'A', { id: 7 });
    const ctx = ctxFor(walkthroughView(), { config: { recursors: ['127.0.0.1:5353'] } });
    const out = resolveQuery(req, ctx);
    expect(out.kind).toBe('forward');
    expect(out.kind === 'forward' && out.recursors).toEqual(['127.0.0.1:5353']);
    expect(ask(walkthroughView(), 'web3.service.consul', 'SRV', { config: { recursors: ['127.0.0.1:5353'] } }).packet.flag_ra).toBe(true);
  });

  it('uses the configured TTLs (service map with a * fallback, node TTL)', () => {
    const config = { serviceTtlS: { web3: 30, '*': 5 }, nodeTtlS: 10 };
    const srv = ask(walkthroughView(), 'web3.service.consul', 'SRV', { config }).packet;
    expect([...srv.answers!, ...srv.additionals!].map((r) => (r as dnsPacket.StringAnswer).ttl)).toEqual([30, 30, 30, 30]);
    expect((ask(manyView(1), 'api.service.consul', 'A', { config }).packet.answers![0] as dnsPacket.StringAnswer).ttl).toBe(5);
    expect((ask(walkthroughView(), 'n2.node.consul', 'A', { config }).packet.answers![0] as dnsPacket.StringAnswer).ttl).toBe(10);
  });

  it('rejects bad configuration with a message that says what to fix', () => {
    expect(() => makeDnsConfig({ udpAnswerLimit: 0 })).toThrow(/udp_answer_limit/);
    expect(() => makeDnsConfig({ domain: 'bad domain.' })).toThrow(/bad label/);
    expect(() => makeDnsConfig({ nodeTtlS: -1 })).toThrow(/node_ttl/);
  });
});

describe('negative answers', () => {
  it('NXDOMAIN for unknown services, nodes and names, with Consul SOA in AUTHORITY', () => {
    for (const [name, type] of [
      ['nothere.service.consul', 'SRV'],
      ['nothere.node.consul', 'A'],
      ['whatever.consul', 'A'],
      ['consul', 'SOA'],
    ] as const) {
      const { packet } = ask(walkthroughView(), name, type);
      expect(packet.rcode, name).toBe('NXDOMAIN');
      expect(packet.flag_aa && packet.flag_qr && packet.flag_rd).toBe(true);
      expect(packet.answers).toEqual([]);
      expect(packet.authorities).toEqual([
        {
          name: 'consul', type: 'SOA', ttl: 0, class: 'IN', flush: false,
          data: { mname: 'ns.consul', rname: 'postmaster.consul', serial: 1436155973, refresh: 3600, retry: 600, expire: 86400, minimum: 0 },
        },
      ]);
    }
  });

  it('echoes RD only when it was asked', () => {
    const { packet } = ask(walkthroughView(), 'web3.service.consul', 'SRV', { rd: false });
    expect(packet.flag_rd).toBe(false);
    expect(packet.flag_aa).toBe(true);
  });
});

describe('shuffling', () => {
  it('changes the answer order across queries, reproducibly for a seed', () => {
    const view = manyView(5);
    const orders = (seed: string): string[] => {
      const rng = makeRng(seed);
      return Array.from({ length: 20 }, () => srvTargets(ask(view, 'api.service.consul', 'SRV', { rng, transport: 'tcp' }).packet).join(','));
    };
    const first = orders('shuffle-seed');
    expect(new Set(first).size).toBeGreaterThan(5);
    expect(orders('shuffle-seed')).toEqual(first);
    expect(orders('another-seed')).not.toEqual(first);
    // Every order is a permutation of all five.
    for (const o of first) expect(o.split(',').sort()).toEqual(['node0', 'node1', 'node2', 'node3', 'node4'].map((n) => `${n}.node.dc1.consul`));
  });

  it('both walkthrough instances come first in some answers', () => {
    const rng = makeRng('walk');
    const firsts = new Set(Array.from({ length: 20 }, () => srvTargets(ask(walkthroughView(), 'web3.service.consul', 'SRV', { rng }).packet)[0]));
    expect(firsts).toEqual(new Set(['n2.node.dc1.consul', 'n3.node.dc1.consul']));
  });
});

describe('UDP limits and truncation', () => {
  const pairsConsistent = (p: dnsPacket.DecodedPacket): void => {
    const targets = srvTargets(p).sort();
    const extra = p.additionals!.filter((a) => a.type !== 'OPT').map((a) => a.name).sort();
    expect(extra).toEqual(targets);
  };

  it('without EDNS answers at most udp_answer_limit (3) and keeps SRV/A pairs', () => {
    const { packet, bytes } = ask(manyView(10), 'api.service.consul', 'SRV');
    expect(packet.answers).toHaveLength(3);
    pairsConsistent(packet);
    expect(packet.flag_tc).toBe(false);
    expect(bytes.length).toBeLessThanOrEqual(512);
    expect(ask(manyView(10), 'api.service.consul', 'A').packet.answers).toHaveLength(3);
    expect(ask(manyView(10), 'api.service.consul', 'A', { config: { udpAnswerLimit: 5 } }).packet.answers).toHaveLength(5);
    // Five SRV+A pairs need 516 bytes: the 512-byte limit cuts the fifth even though the cap allows it.
    expect(ask(manyView(10), 'api.service.consul', 'SRV', { config: { udpAnswerLimit: 5 } }).packet.answers).toHaveLength(4);
  });

  it('sets TC only with enable_truncate', () => {
    const { packet } = ask(manyView(10), 'api.service.consul', 'SRV', { config: { enableTruncate: true } });
    expect(packet.flag_tc).toBe(true);
    expect(packet.answers).toHaveLength(3);
    expect(ask(manyView(3), 'api.service.consul', 'SRV', { config: { enableTruncate: true } }).packet.flag_tc).toBe(false);
  });

  it('with EDNS answers up to the buffer size and echoes an OPT record', () => {
    const { packet, bytes } = ask(manyView(10), 'api.service.consul', 'SRV', { edns: 4096 });
    expect(packet.answers).toHaveLength(10);
    pairsConsistent(packet);
    expect(packet.additionals!.filter((a) => a.type === 'OPT')).toHaveLength(1);
    expect(bytes.length).toBeLessThanOrEqual(4096);
    const big = ask(manyView(200), 'api.service.consul', 'SRV', { edns: 1232 });
    expect(big.bytes.length).toBeLessThanOrEqual(1232);
    expect(big.packet.answers!.length).toBeGreaterThan(3);
    expect(big.packet.answers!.length).toBeLessThan(200);
    pairsConsistent(big.packet);
    // An EDNS size of 512 is the classic limit, so the answer cap applies as in Consul.
    expect(ask(manyView(10), 'api.service.consul', 'SRV', { edns: 512 }).packet.answers).toHaveLength(3);
  });

  it('trims by size when long names overflow 512 bytes before the answer cap', () => {
    const view = manyView(3, 'a-rather-long-node-name-that-eats-the-datagram-budget-x');
    const { packet, bytes } = ask(view, 'api.service.consul', 'SRV');
    expect(bytes.length).toBeLessThanOrEqual(512);
    expect(packet.answers!.length).toBeGreaterThan(0);
    expect(packet.answers!.length).toBeLessThan(3);
    pairsConsistent(packet);
  });

  it('TCP has no answer limit', () => {
    const { packet } = ask(manyView(10), 'api.service.consul', 'SRV', { transport: 'tcp' });
    expect(packet.answers).toHaveLength(10);
    pairsConsistent(packet);
    const huge = ask(manyView(2000), 'api.service.consul', 'SRV', { transport: 'tcp' });
    expect(huge.bytes.length).toBeLessThanOrEqual(65535);
    expect(huge.packet.answers!.length).toBeGreaterThan(500);
    pairsConsistent(huge.packet);
  });

  // The property, shared by the random runs and the regression seeds below.
  const healthyAnswersProperty = (() => {
    const instance = fc.record({ status: fc.constantFrom('passing', 'warning', 'critical'), nodeOk: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }), nameLen: fc.integer({ min: 1, max: 40 }) });
    return fc.property(
        fc.array(instance, { minLength: 1, maxLength: 40 }),
        fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'),
        fc.option(fc.integer({ min: 0, max: 8192 }), { nil: undefined }),
        fc.boolean(),
        fc.string({ minLength: 1, maxLength: 8 }),
        (insts, transport, edns, onlyPassing, seed) => {
          const view = new FakeView();
          insts.forEach((x, i) => {
            const node = `n${i}-${'x'.repeat(x.nameLen)}`;
            view.addNode(node, `10.2.${i >> 8}.${i & 255}`).addService(node, 'svc', 'svc', { port: x.port });
            if (x.status !== 'passing') view.setCheck(node, 'service:svc', x.status as 'warning' | 'critical');
            if (!x.nodeOk) view.setCheck(node, 'serfHealth', 'critical');
          });
          const healthy = new Set(
            insts.flatMap((x, i) => (x.nodeOk && x.status !== 'critical' && (!onlyPassing || x.status === 'passing') ? [`n${i}-${'x'.repeat(x.nameLen)}.node.dc1.consul`] : [])),
          );
          const { packet, bytes } = ask(view, 'svc.service.consul', 'SRV', { transport, edns, rng: makeRng(seed), config: { onlyPassing } });
          const limit = transport === 'tcp' ? 65535 : Math.max(512, edns ?? 0);
          expect(bytes.length).toBeLessThanOrEqual(limit);
          if (healthy.size === 0) {
            expect(packet.rcode).toBe('NXDOMAIN');
            return;
          }
          const targets = srvTargets(packet);
          for (const t of targets) expect(healthy.has(t)).toBe(true);
          expect(new Set(targets).size).toBe(targets.length);
          if (transport === 'tcp') expect(targets.length).toBe(healthy.size);
          if (transport === 'udp' && edns === undefined) expect(targets.length).toBeLessThanOrEqual(3);
          expect(targets.length).toBeGreaterThan(0);
          pairsConsistent(packet);
          // Our reader and dns-packet agree on the reply.
          const mine = readMessage(bytes);
          expect(mine.answers.length).toBe(packet.answers!.length);
          expect(mine.additionals.length).toBe(packet.additionals!.length);
        },
      );
  })();

  it('property: answers are healthy, pairs consistent, size within the transport limit', () => {
    fc.assert(healthyAnswersProperty, { numRuns: 300 });
  });

  it('regression seed 1293323431: a client advertising an EDNS size of 0 gets at most 512 bytes', () => {
    // The query builder sent 0 as 4096 (dns-packet's `|| 4096`), so the server rightly
    // answered 517 bytes to what it read as a 4096-byte buffer.
    fc.assert(healthyAnswersProperty, { seed: 1293323431, numRuns: 300 });
    const q = buildQuery('svc.service.consul', 'SRV', { id: 1, ednsPayloadBytes: 0 });
    expect(readMessage(q).additionals.find((r) => r.type === 41)!.klass).toBe(0);
    const { bytes, packet } = ask(manyView(10, 'n'), 'api.service.consul', 'SRV', { edns: 0 });
    expect(bytes.length).toBeLessThanOrEqual(512);
    expect(packet.answers!.length).toBeLessThanOrEqual(3);
    expect(() => buildQuery('a.consul', 'A', { id: 1, ednsPayloadBytes: 70000 })).toThrow(/EDNS payload size/);
  });
});

describe('malformed requests', () => {
  const ctx = () => ctxFor(walkthroughView());

  it('drops packets shorter than a header and packets that are responses', () => {
    expect(resolveQuery(new Uint8Array(0), ctx()).kind).toBe('drop');
    expect(resolveQuery(new Uint8Array(11), ctx()).kind).toBe('drop');
    const resp = answerQuery(buildQuery('web3.service.consul', 'SRV', { id: 9 }), ctx())!;
    expect(resolveQuery(resp, ctx()).kind).toBe('drop');
  });

  it('answers FORMERR with the same id when the header parses but the rest does not', () => {
    const good = buildQuery('web3.service.consul', 'SRV', { id: 0xbeef });
    for (const bad of [good.subarray(0, 12), good.subarray(0, 20), good.subarray(0, good.length - 1)]) {
      const out = answerQuery(bad, ctx());
      expect(out).not.toBeNull();
      const h = readMessage(out!).header;
      expect([h.id, h.qr, h.rcode]).toEqual([0xbeef, true, 1]);
    }
    const two = Uint8Array.from(good);
    two[5] = 2; // QDCOUNT 2
    expect(readMessage(answerQuery(two, ctx())!).header.rcode).toBe(1);
    const tooBig = new Uint8Array(5000);
    tooBig.set(good);
    expect(readMessage(answerQuery(tooBig, ctx())!).header.rcode).toBe(1);
  });

  it('answers NOTIMP for opcodes other than QUERY and BADVERS for EDNS versions above 0', () => {
    const q = Uint8Array.from(buildQuery('web3.service.consul', 'SRV', { id: 5 }));
    q[2]! |= 2 << 3; // opcode STATUS
    expect(readMessage(answerQuery(q, ctx())!).header.rcode).toBe(4);
    const e = Uint8Array.from(buildQuery('web3.service.consul', 'SRV', { id: 6, ednsPayloadBytes: 1232 }));
    e[e.length - 5] = 1; // OPT version byte (name, type, class, ext-rcode precede it)
    const r = readMessage(answerQuery(e, ctx())!);
    const opt = r.additionals.find((x) => x.type === 41)!;
    expect(((opt.ttl >>> 24) << 4) | r.header.rcode).toBe(16);
  });

  it('answers SERVFAIL, not an exception, when the view throws', () => {
    const view = walkthroughView();
    view.serviceInstances = () => {
      throw new Error('boom');
    };
    const out = resolveQuery(buildQuery('web3.service.consul', 'SRV', { id: 3 }), ctxFor(view));
    expect(out.kind).toBe('reply');
    expect(out.kind === 'reply' && out.rcode).toBe(2);
    expect(out.logs.some((l) => l.level === 'ERR' && l.text.includes('boom'))).toBe(true);
  });
});
