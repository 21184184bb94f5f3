// DNS recursors (-recursor, recursor_timeout 2 s) on real agents in the simulator: names outside
// the domain are forwarded by the agent that got the query, in order, first answer wins.
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { buildQuery } from '../../core/dns/query.ts';
import { parseAgentArgs, UsageError } from '../../core/agent/config.ts';
import { servfailFor, describeQuestion } from '../../core/agent/recursor.ts';
import { N1, N2, N3, clientArgs, http, leaderOf, serverArgs, spawnAgent, walkthroughWorld } from './helpers.ts';

const UP1 = '10.10.200.53';
const UP2 = '10.10.200.54';

type World = ReturnType<typeof walkthroughWorld>;

/** A tiny upstream DNS server: example.com A 93.184.216.34, NXDOMAIN for anything else. Records who asked. */
function upstream(world: World, ip: string, seen: string[]): void {
  world.addHost(ip);
  world.host(ip).spawn(['upstream-dns'], (ctx) => {
    ctx.ports.net.bindDatagram(53, (from, bytes) => {
      const q = dnsPacket.decode(Buffer.from(bytes));
      const name = q.questions?.[0]?.name ?? '';
      seen.push(`${from.split(':')[0]} ${name}`);
      const known = name.toLowerCase() === 'example.com';
      const reply = dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
        questions: q.questions,
        answers: known ? [{ name: 'example.com', type: 'A', class: 'IN', ttl: 300, data: '93.184.216.34' }] : [],
      });
      ctx.ports.net.sendDatagram(53, from, new Uint8Array(reply));
    });
  });
}

/** dns-packet decodes the rcode but its types leave it out. */
type Decoded = dnsPacket.Packet & { rcode?: string; flag_rd?: boolean };

interface Dig {
  packet: Decoded;
  bytes: Uint8Array;
  tookMs: number;
}

function dig(world: World, fromIp: string, name: string, type = 'A', id = 4242, transport: 'udp' | 'tcp' = 'udp'): Dig | null {
  let answer: Uint8Array | null | undefined;
  const start = world.nowMs();
  let end = start;
  world.dnsQuery(fromIp, '127.0.0.1:8600', buildQuery(name, type, { id }), { transport, timeoutMs: 10_000 }, (a) => {
    answer = a;
    end = world.nowMs();
  });
  world.runUntilTrue(() => answer !== undefined, 15_000);
  if (!answer) return null;
  return { packet: dnsPacket.decode(Buffer.from(answer)) as Decoded, bytes: answer, tookMs: end - start };
}

function aRecords(d: Dig | null): string[] {
  return (d?.packet.answers ?? []).filter((a) => a.type === 'A').map((a) => `${a.name} ${(a as { data: string }).data}`);
}

const RA = 0x80;

describe('-recursor flag', () => {
  it('takes ip or ip:port (port 53 by default), repeatable, and refuses anything else', () => {
    const cfg = parseAgentArgs(['-data-dir=/d', '-recursor=8.8.8.8', '-recursor', '127.0.0.1:5353'], 'h');
    expect(cfg.recursors).toEqual(['8.8.8.8:53', '127.0.0.1:5353']);
    expect(cfg.recursorTimeoutMs).toBe(2000);
    expect(parseAgentArgs(['-data-dir=/d'], 'h').recursors).toEqual([]);
    expect(() => parseAgentArgs(['-data-dir=/d', '-recursor=dns.google'], 'h')).toThrow(/Invalid recursor address 'dns.google': not ip or ip:port/);
    expect(() => parseAgentArgs(['-data-dir=/d', '-recursor=1.2.3.400'], 'h')).toThrow(UsageError);
    expect(() => parseAgentArgs(['-data-dir=/d', '-recursor=1.2.3.4:0'], 'h')).toThrow(/port 0 is not 1-65535/);
  });

  it('SERVFAIL keeps the id, opcode, rd and question, and sets qr and ra', () => {
    const q = buildQuery('example.com', 'AAAA', { id: 0xbeef });
    const p = dnsPacket.decode(Buffer.from(servfailFor(q))) as Decoded;
    expect(p.id).toBe(0xbeef);
    expect(p.type).toBe('response');
    expect(p.rcode).toBe('SERVFAIL');
    expect(p.flags! & RA).toBe(RA);
    expect(p.flag_rd).toBe(true);
    expect(p.questions).toEqual([{ name: 'example.com', type: 'AAAA', class: 'IN' }]);
    expect(describeQuestion(q)).toBe('example.com. AAAA');
    expect(dnsPacket.decode(Buffer.from(servfailFor(new Uint8Array([1, 2])))).id).toBe(0x0102);
  });
});

describe('DNS recursors in the simulator', () => {
  it('a server forwards names outside the domain and relays the answer with the query id; ra is set', () => {
    const world = walkthroughWorld(21);
    const seen: string[] = [];
    upstream(world, UP1, seen);
    spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir=/d', '-node=n1', `-bind=${N1}`, `-recursor=${UP1}`]);
    world.runFor(3_000);
    const d = dig(world, N1, 'example.com', 'A', 4242);
    expect(d).not.toBeNull();
    expect(d!.packet.id).toBe(4242);
    expect(d!.packet.rcode).toBe('NOERROR');
    expect(aRecords(d)).toEqual(['example.com 93.184.216.34']);
    expect(seen).toEqual([`${N1} example.com`]);
    // Inside the domain the agent answers itself, and says recursion is available.
    const local = dig(world, N1, 'consul.service.consul', 'A', 7);
    expect(local!.packet.flags! & RA).toBe(RA);
    expect(aRecords(local)).toEqual([`consul.service.consul ${N1}`]);
    expect(seen).toHaveLength(1);
    // Over TCP too (the agent forwards by UDP, relays on the client's transport).
    expect(aRecords(dig(world, N1, 'example.com', 'A', 9, 'tcp'))).toEqual(['example.com 93.184.216.34']);
  });

  it('without recursors a name outside the domain is refused and ra is clear', () => {
    const world = walkthroughWorld(22);
    spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir=/d', '-node=n1', `-bind=${N1}`]);
    world.runFor(3_000);
    const d = dig(world, N1, 'example.com');
    expect(d!.packet.rcode).toBe('REFUSED');
    expect(d!.packet.flags! & RA).toBe(0);
  });

  it('a client with recursors forwards out-of-domain names itself and asks a server only about the domain', () => {
    const world = walkthroughWorld(23);
    const seen: string[] = [];
    upstream(world, UP1, seen);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1));
    spawnAgent(world, N2, serverArgs('n2', N2));
    spawnAgent(world, N3, clientArgs('n3', N3, [`-recursor=${UP1}:53`]));
    world.runFor(1_000);
    http(world, N1, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${N2}`);
    http(world, N3, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${N1}`);
    world.runFor(8_000);
    expect(leaderOf(n1)).not.toBeNull();
    const d = dig(world, N3, 'example.com', 'A', 1234);
    expect(d!.packet.id).toBe(1234);
    expect(aRecords(d)).toEqual(['example.com 93.184.216.34']);
    expect(seen).toEqual([`${N3} example.com`]);
    // The servers have no recursors; the client's answer for the domain still says ra.
    const local = dig(world, N3, 'consul.service.consul', 'A', 5);
    expect(local!.packet.rcode).toBe('NOERROR');
    expect(local!.packet.answers!.length).toBe(2);
    expect(local!.packet.flags! & RA).toBe(RA);
    // A server without recursors refuses the same outside name.
    expect(dig(world, N1, 'example.com')!.packet.rcode).toBe('REFUSED');
  });

  it('tries the recursors in order: a dead first one costs recursor_timeout, the second answers', () => {
    const world = walkthroughWorld(24);
    const seen: string[] = [];
    upstream(world, UP2, seen);
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir=/d', '-node=n1', `-bind=${N1}`, `-recursor=${UP1}`, `-recursor=${UP2}`]);
    world.runFor(3_000);
    const d = dig(world, N1, 'example.com', 'A', 77);
    expect(aRecords(d)).toEqual(['example.com 93.184.216.34']);
    expect(d!.packet.id).toBe(77);
    expect(d!.tookMs).toBeGreaterThanOrEqual(2_000);
    expect(d!.tookMs).toBeLessThan(3_000);
    expect(seen).toEqual([`${N1} example.com`]);
    expect(n1.process.output.join('\n')).toContain(`[ERR] dns: recurse failed: no answer from ${UP1}:53 within 2000ms`);
  });

  it('an upstream answer (even NXDOMAIN) wins; nothing is asked twice', () => {
    const world = walkthroughWorld(25);
    const seen: string[] = [];
    upstream(world, UP1, seen);
    upstream(world, UP2, seen);
    spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir=/d', '-node=n1', `-bind=${N1}`, `-recursor=${UP1}`, `-recursor=${UP2}`]);
    world.runFor(3_000);
    const d = dig(world, N1, 'nothing.example.org');
    expect(d!.packet.rcode).toBe('NXDOMAIN');
    expect(seen).toEqual([`${N1} nothing.example.org`]);
  });

  it('all recursors down: SERVFAIL after trying both, with the query id', () => {
    const world = walkthroughWorld(26);
    world.addHost(UP1);
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir=/d', '-node=n1', `-bind=${N1}`, `-recursor=${UP1}`, '-recursor=10.10.200.99:5353']);
    world.runFor(3_000);
    const d = dig(world, N1, 'example.com', 'A', 31337);
    expect(d).not.toBeNull();
    expect(d!.packet.id).toBe(31337);
    expect(d!.packet.rcode).toBe('SERVFAIL');
    expect(d!.packet.flags! & RA).toBe(RA);
    expect(d!.tookMs).toBeGreaterThanOrEqual(4_000);
    const out = n1.process.output.join('\n');
    expect(out).toContain(`recurse failed: no answer from ${UP1}:53 within 2000ms`);
    expect(out).toContain('recurse failed: no answer from 10.10.200.99:5353 within 2000ms');
    expect(out).toContain('[ERR] dns: all resolvers failed for example.com. A');
  });
});
