// SRV answers shaped as Consul's (#21): one record per (node, service address, port), the
// right target, one additional record per SRV record, trimmed together; `.addr.` and PTR lookups.
import { describe, expect, it } from 'vitest';
import type dnsPacket from 'dns-packet';
import { FakeView, walkthroughView } from './fake-view.ts';
import { ask, srvTargets } from './helpers.ts';

type Srv = dnsPacket.SrvAnswer;
type Str = dnsPacket.StringAnswer;

/** Three instances of web3 on one node, on three ports, no service address. */
function portsView(): FakeView {
  const v = new FakeView().addNode('h1', '127.24.0.10');
  for (const port of [8081, 8082, 8083]) v.addService('h1', `web3-${port}`, 'web3', { port });
  return v;
}

/** Three instances of web3 on one node, one port, each with its own service address. */
function addressesView(): FakeView {
  const v = new FakeView().addNode('h1', '127.24.0.10');
  for (const i of [11, 12, 13]) v.addService('h1', `web3-${i}`, 'web3', { port: 8080, address: `127.24.0.${i}` });
  return v;
}

const pairs = (p: dnsPacket.DecodedPacket): Array<[string, number, string]> => {
  const extra = (p.additionals ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA') as Str[];
  return (p.answers as Srv[]).map((a) => {
    const e = extra.find((x) => x.name === a.data.target);
    return [a.data.target, a.data.port, e?.data ?? '-'] as [string, number, string];
  });
};

describe('SRV shapes', () => {
  it('three ports on one node: three SRV records, each with its own additional A record', () => {
    const { packet } = ask(portsView(), '_web3._tcp.service.consul', 'SRV');
    expect((packet.answers as Srv[]).map((a) => a.data.port).sort()).toEqual([8081, 8082, 8083]);
    expect(srvTargets(packet)).toEqual(['h1.node.dc1.consul', 'h1.node.dc1.consul', 'h1.node.dc1.consul']);
    const extra = packet.additionals!.filter((a) => a.type === 'A') as Str[];
    expect(extra.map((a) => [a.name, a.data])).toEqual(Array(3).fill(['h1.node.dc1.consul', '127.24.0.10']));
  });

  it('three service addresses on one port and one node: three .addr. targets, none lost', () => {
    const { packet } = ask(addressesView(), 'web3.service.consul', 'SRV');
    expect(pairs(packet).sort()).toEqual([
      ['7f18000b.addr.dc1.consul', 8080, '127.24.0.11'],
      ['7f18000c.addr.dc1.consul', 8080, '127.24.0.12'],
      ['7f18000d.addr.dc1.consul', 8080, '127.24.0.13'],
    ]);
    expect(packet.additionals).toHaveLength(3);
  });

  it('the walkthrough form stays: one service address per node keeps the node name as target', () => {
    expect(pairs(ask(walkthroughView(), 'web3.service.consul', 'SRV').packet).sort()).toEqual([
      ['n2.node.dc1.consul', 10000, '127.0.0.1'],
      ['n3.node.dc1.consul', 10000, '127.0.0.1'],
    ]);
  });

  it('mixed on one node: the instance at the node address keeps the node name, the other gets .addr.', () => {
    const v = new FakeView().addNode('h1', '10.0.0.1').addService('h1', 'a', 'web3', { port: 80 }).addService('h1', 'b', 'web3', { port: 80, address: 'fd00::2' });
    const { packet } = ask(v, 'web3.service.consul', 'SRV');
    expect(pairs(packet).sort()).toEqual([
      ['fd000000000000000000000000000002.addr.dc1.consul', 80, 'fd00::2'],
      ['h1.node.dc1.consul', 80, '10.0.0.1'],
    ]);
  });

  it('two registrations of the same address and port are one endpoint', () => {
    const v = new FakeView().addNode('h1', '10.0.0.1').addService('h1', 'a', 'web3', { port: 80 }).addService('h1', 'b', 'web3', { port: 80 });
    expect(ask(v, 'web3.service.consul', 'SRV').packet.answers).toHaveLength(1);
  });

  it('SRV weight follows Weights: Warning while a check warns, else Passing', () => {
    const v = new FakeView().addNode('h1', '10.0.0.1').addService('h1', 'a', 'web3', { port: 80 });
    v.serviceList[0]!.Weights = { Passing: 10, Warning: 2 };
    expect((ask(v, 'web3.service.consul', 'SRV').packet.answers![0] as Srv).data.weight).toBe(10);
    v.setCheck('h1', 'service:a', 'warning');
    expect((ask(v, 'web3.service.consul', 'SRV').packet.answers![0] as Srv).data.weight).toBe(2);
  });

  it('trims SRV and additional records together under 512 bytes; TC only with enable_truncate', () => {
    const v = new FakeView().addNode('h1', '127.24.0.10');
    for (let i = 1; i <= 8; i++) v.addService('h1', `s${i}`, 'web3', { port: 9000 + i, address: `127.24.1.${i}` });
    for (const edns of [undefined, 600]) {
      for (const enableTruncate of [false, true]) {
        const { packet, bytes } = ask(v, 'web3.service.consul', 'SRV', { edns, config: { enableTruncate, udpAnswerLimit: 8 } });
        expect(bytes.length).toBeLessThanOrEqual(Math.max(512, edns ?? 0));
        const got = pairs(packet);
        expect(got.length).toBeLessThan(8);
        for (const [, , a] of got) expect(a).not.toBe('-');
        expect(packet.additionals!.filter((a) => a.type === 'A')).toHaveLength(got.length);
        expect(packet.flag_tc).toBe(enableTruncate);
      }
    }
    const tcp = ask(v, 'web3.service.consul', 'SRV', { transport: 'tcp', config: { enableTruncate: true } }).packet;
    expect(tcp.answers).toHaveLength(8);
    expect(tcp.flag_tc).toBe(false);
  });
});

describe('.addr. and PTR lookups', () => {
  it('answers <hex>.addr.<dc>.<domain> with the address it encodes', () => {
    const a = ask(new FakeView(), '7f18000b.addr.dc1.consul', 'A').packet;
    expect(a.rcode).toBe('NOERROR');
    expect((a.answers as Str[]).map((r) => [r.name, r.type, r.data])).toEqual([['7f18000b.addr.dc1.consul', 'A', '127.24.0.11']]);
    const six = ask(new FakeView(), 'fd000000000000000000000000000002.addr.consul', 'AAAA').packet;
    expect((six.answers as Str[]).map((r) => r.data)).toEqual(['fd00::2']);
    expect(ask(new FakeView(), 'zz.addr.consul', 'A').packet.rcode).toBe('NXDOMAIN');
  });

  it('dig -x a node address answers the node name; a service address answers the service', () => {
    const v = walkthroughView().addNode('six', 'fd00::1').addNode('h9', '10.0.0.9').addService('h9', 'db1', 'db', { port: 5432, address: '10.0.0.42' });
    const p = ask(v, '101.126.10.10.in-addr.arpa', 'PTR').packet;
    expect(p.rcode).toBe('NOERROR');
    expect(p.flag_aa).toBe(true);
    expect((p.answers as Str[]).map((r) => [r.name, r.type, r.data])).toEqual([['101.126.10.10.in-addr.arpa', 'PTR', 'n2.node.dc1.consul']]);
    const nibbles = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
    expect((ask(v, nibbles, 'PTR').packet.answers as Str[]).map((r) => r.data)).toEqual(['six.node.dc1.consul']);
    expect((ask(v, '42.0.0.10.in-addr.arpa', 'PTR').packet.answers as Str[]).map((r) => r.data)).toEqual(['db.service.dc1.consul']);
    const nx = ask(v, '1.2.3.4.in-addr.arpa', 'PTR').packet;
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities![0]!.type).toBe('SOA');
    expect(ask(v, 'junk.in-addr.arpa', 'PTR').packet.rcode).toBe('NXDOMAIN');
  });
});
