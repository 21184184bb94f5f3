// Gossip encryption (-encrypt, keyrings) on real agents in the simulator, and the pieces under it:
// the sim CryptoPort, the Host's sealing rule, key validation.
import { describe, expect, it } from 'vitest';
import { SimWorld } from '../../sim/world.ts';
import { makeSimCrypto } from '../../sim/crypto.ts';
import { SEAL_OVERHEAD_BYTES, type DatagramHandler, type Ports, type StreamMessageHandler } from '../../core/runtime/ports.ts';
import { Host } from '../../core/runtime/host.ts';
import { wireCodec } from '../../core/codec/index.ts';
import type { BaseEffect, LogLevel } from '../../core/machine.ts';
import { decodeGossipKey, parseAgentArgs, UsageError } from '../../core/agent/config.ts';
import { parseKeyring } from '../../core/agent/keyring.ts';
import { toBase64 } from '../../core/catalog/base64.ts';
import { N1, N2, N3, clientArgs, http, leaderOf, serverArgs, spawnAgent, walkthroughWorld } from './helpers.ts';

const KEY_A = toBase64(Uint8Array.from({ length: 16 }, (_, i) => i + 1));
const KEY_B = toBase64(Uint8Array.from({ length: 16 }, (_, i) => 200 - i));
const KEY_32 = toBase64(Uint8Array.from({ length: 32 }, (_, i) => i * 7));

type World = ReturnType<typeof walkthroughWorld>;

function members(world: World, ip: string): string[] {
  const list = JSON.parse(http(world, ip, 'GET', 'http://127.0.0.1:8500/v1/agent/members').body) as { Name: string; Status: number }[];
  return list.map((m) => `${m.Name}:${m.Status}`).sort();
}

function stats(world: World, ip: string): Record<string, Record<string, string>> {
  return (JSON.parse(http(world, ip, 'GET', 'http://127.0.0.1:8500/v1/agent/self').body) as { Stats: Record<string, Record<string, string>> }).Stats;
}

function join(world: World, fromIp: string, toIp: string): number {
  return http(world, fromIp, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${toIp}`).status;
}

describe('sim CryptoPort', () => {
  it('seals with exactly SEAL_OVERHEAD_BYTES, opens only with the same key, and is deterministic', () => {
    const key = decodeGossipKey(KEY_A);
    const other = decodeGossipKey(KEY_B);
    const plain = new TextEncoder().encode('gossip.ping from n1');
    const a = makeSimCrypto('10.0.0.1', 7);
    const sealed = a.seal(key, plain);
    expect(sealed.length).toBe(plain.length + SEAL_OVERHEAD_BYTES);
    expect(Buffer.from(a.open(key, sealed)!).toString()).toBe('gossip.ping from n1');
    expect(a.open(other, sealed)).toBeNull();
    expect(a.open(key, plain)).toBeNull();
    const tampered = sealed.slice();
    tampered[20]! ^= 1;
    expect(a.open(key, tampered)).toBeNull();
    // Nonces differ per message, and the same (ip, pid) replays the same bytes.
    const second = a.seal(key, plain);
    expect(Buffer.from(second).equals(Buffer.from(sealed))).toBe(false);
    const replay = makeSimCrypto('10.0.0.1', 7);
    expect(Buffer.from(replay.seal(key, plain)).equals(Buffer.from(sealed))).toBe(true);
    expect(replay.open(decodeGossipKey(KEY_32), replay.seal(decodeGossipKey(KEY_32), plain))).not.toBeNull();
  });
});

/** Just enough of a world to watch what the Host does with bytes. */
function fakePorts(withCrypto = true) {
  const sent: { via: 'udp' | 'tcp'; fromPort: number; to: string; bytes: Uint8Array }[] = [];
  const logs: { level: LogLevel; source: string; text: string }[] = [];
  const udp = new Map<number, DatagramHandler>();
  const tcp = new Map<number, StreamMessageHandler>();
  const ports: Ports = {
    clock: { nowMs: () => 0 },
    timers: { set: () => 1, cancel: () => {} },
    net: {
      ip: '10.0.0.1',
      bindDatagram: (p, h) => void udp.set(p, h),
      listenStream: (p, h) => void tcp.set(p, h),
      sendDatagram: (fromPort, to, bytes) => void sent.push({ via: 'udp', fromPort, to, bytes }),
      sendStream: (fromPort, to, bytes) => void sent.push({ via: 'tcp', fromPort, to, bytes }),
      closeAll: () => {},
    },
    disk: { read: () => null, writeAtomic: () => {}, append: () => {}, remove: () => {}, list: () => [], exists: () => false },
    probes: { run: () => {} },
    log: { line: (level, source, text) => void logs.push({ level, source, text }) },
    ...(withCrypto ? { crypto: makeSimCrypto('10.0.0.1', 1) } : {}),
  };
  return { ports, sent, logs, udp, tcp };
}

describe('Host sealing', () => {
  const key = decodeGossipKey(KEY_A);
  const old = decodeGossipKey(KEY_B);
  const crypto = makeSimCrypto('10.0.0.9', 2);

  function started() {
    const w = fakePorts();
    const received: { from: string; port: number; msg: unknown }[] = [];
    let toSend: BaseEffect[] = [];
    const host = new Host<unknown, BaseEffect>({
      ports: w.ports,
      dataDir: '/d',
      listen: { udp: [8301], tcp: [8301, 8300] },
      codec: wireCodec,
      encrypt: { ports: [8301], key, keys: [key, old] },
    });
    host.start({
      step: (_now, input) => {
        const i = input as { kind: string; from: string; port: number; msg: unknown };
        if (i.kind === 'receive') received.push({ from: i.from, port: i.port, msg: i.msg });
        const out = toSend;
        toSend = [];
        return out;
      },
    });
    const emit = (effects: BaseEffect[]): void => {
      toSend = effects;
      host.deliver({ kind: 'timer', name: 'go' });
    };
    return { w, host, received, emit };
  }

  it('seals gossip-port to gossip-port traffic only, and opens it with any installed key', () => {
    const { w, received, emit } = started();
    emit([
      { kind: 'send', fromPort: 8301, to: '10.0.0.2:8301', via: 'udp', msg: { t: 'g', n: 1 } },
      { kind: 'send', fromPort: 8301, to: '10.0.0.2:8300', via: 'tcp', msg: { t: 'rpc', n: 2 } },
    ]);
    expect(w.sent).toHaveLength(2);
    expect(w.sent[0]!.bytes.length).toBe(wireCodec.encode({ t: 'g', n: 1 }).length + SEAL_OVERHEAD_BYTES);
    expect(wireCodec.decode(crypto.open(key, w.sent[0]!.bytes)!)).toEqual({ ok: true, msg: { t: 'g', n: 1 } });
    expect(wireCodec.decode(w.sent[1]!.bytes)).toEqual({ ok: true, msg: { t: 'rpc', n: 2 } });

    w.udp.get(8301)!('10.0.0.2:8301', crypto.seal(key, wireCodec.encode({ a: 1 })));
    w.udp.get(8301)!('10.0.0.2:8301', crypto.seal(old, wireCodec.encode({ a: 2 })));
    w.tcp.get(8301)!('10.0.0.2:8300', wireCodec.encode({ a: 3 })); // an RPC reply from :8300 stays plain
    w.tcp.get(8300)!('10.0.0.2:8301', wireCodec.encode({ a: 4 })); // Raft/RPC port is never sealed
    expect(received.map((r) => r.msg)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]);
    expect(w.logs).toEqual([]);
  });

  it('drops plain or foreign-key gossip with memberlist\'s decrypt error', () => {
    const { w, received } = started();
    w.udp.get(8301)!('10.0.0.2:8301', wireCodec.encode({ a: 1 }));
    w.tcp.get(8301)!('10.0.0.3:8301', crypto.seal(decodeGossipKey(KEY_32), wireCodec.encode({ a: 2 })));
    expect(received).toEqual([]);
    expect(w.logs.map((l) => `[${l.level}] ${l.source}: ${l.text}`)).toEqual([
      '[ERR] memberlist: Decrypt packet failed: No installed keys could decrypt the message from=10.0.0.2:8301',
      '[ERR] memberlist: failed to receive: No installed keys could decrypt the message from=10.0.0.3:8301',
    ]);
  });

  it('applies the datagram limit to the sealed size', () => {
    const { w, emit } = started();
    const sized = (n: number): { s: string } => {
      const base = wireCodec.encode({ s: '' }).length;
      let msg = { s: 'x'.repeat(n - base) };
      while (wireCodec.encode(msg).length > n) msg = { s: msg.s.slice(1) };
      expect(wireCodec.encode(msg).length).toBe(n);
      return msg;
    };
    emit([{ kind: 'send', fromPort: 8301, to: '10.0.0.2:8301', via: 'udp', msg: sized(1400 - SEAL_OVERHEAD_BYTES) }]);
    expect(w.sent.map((s) => s.bytes.length)).toEqual([1400]);
    emit([{ kind: 'send', fromPort: 8301, to: '10.0.0.2:8301', via: 'udp', msg: sized(1401 - SEAL_OVERHEAD_BYTES) }]);
    expect(w.sent).toHaveLength(1);
    expect(w.logs.at(-1)!.text).toContain('is 1401 bytes, over the 1400-byte limit; dropped');
  });

  it('refuses encryption in a world without a crypto port', () => {
    const w = fakePorts(false);
    expect(
      () => new Host({ ports: w.ports, dataDir: '/d', listen: { udp: [], tcp: [] }, codec: wireCodec, encrypt: { ports: [8301], key } }),
    ).toThrow(/no crypto port/);
  });
});

describe('-encrypt flag validation', () => {
  it('accepts 16/24/32-byte base64 keys and refuses bad base64 or a wrong length with a clear error', () => {
    expect(parseAgentArgs(['-data-dir=/d', `-encrypt=${KEY_A}`], 'h').encrypt).toBe(KEY_A);
    expect(parseAgentArgs(['-data-dir=/d', `-encrypt=${KEY_32}`], 'h').encrypt).toBe(KEY_32);
    expect(() => parseAgentArgs(['-data-dir=/d', '-encrypt=not*base64!'], 'h')).toThrow(/Invalid encryption key: .*base64/);
    expect(() => parseAgentArgs(['-data-dir=/d', `-encrypt=${toBase64(new Uint8Array(10))}`], 'h')).toThrow(
      /decodes to 10 bytes; key size must be 16, 24 or 32 bytes/,
    );
    expect(() => parseAgentArgs(['-data-dir=/d', '-encrypt=abc'], 'h')).toThrow(UsageError);
    expect(() => parseKeyring('serf/local.keyring', new TextEncoder().encode('{"k":1}'))).toThrow(/non-empty JSON array/);
  });

  it('a bad key stops the agent with the error and usage, exit 1', () => {
    const world = walkthroughWorld(3);
    const a = spawnAgent(world, N1, serverArgs('n1', N1, ['-encrypt=short']));
    world.runFor(100);
    expect(a.agent).toBeNull();
    expect(a.process.exitCode).toBe(1);
    expect(a.process.output[0]).toMatch(/^==> Invalid encryption key: /);
  });
});

describe('gossip encryption in the simulator', () => {
  it('same key: the cluster forms, keyrings are written, banner and info say encrypted', () => {
    const world = walkthroughWorld(11);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_A}`]));
    const n2 = spawnAgent(world, N2, serverArgs('n2', N2, [`-encrypt=${KEY_A}`]));
    const n3 = spawnAgent(world, N3, clientArgs('n3', N3, [`-encrypt=${KEY_A}`]));
    world.runFor(1_000);
    expect(join(world, N1, N2)).toBe(200);
    expect(join(world, N3, N1)).toBe(200);
    world.runFor(8_000);
    expect(leaderOf(n1)).not.toBeNull();
    expect(leaderOf(n2)).toBe(leaderOf(n1));
    expect(members(world, N3)).toEqual(['n1:1', 'n2:1', 'n3:1']);
    expect(n1.process.output).toContain('    Gossip encrypt: true, RPC-TLS: false, TLS-Incoming: false');
    expect(n3.process.output).toContain('    Gossip encrypt: true, RPC-TLS: false, TLS-Incoming: false');
    expect(world.host(N1).disk.readText('/tmp/consul/serf/local.keyring')).toBe(JSON.stringify([KEY_A]));
    expect(world.host(N1).disk.readText('/tmp/consul/serf/remote.keyring')).toBe(JSON.stringify([KEY_A]));
    expect(world.host(N3).disk.readText('/tmp/consul/serf/local.keyring')).toBe(JSON.stringify([KEY_A]));
    expect(world.host(N3).disk.exists('/tmp/consul/serf/remote.keyring')).toBe(false);
    const s1 = stats(world, N1);
    expect(s1.serf_lan!.encrypted).toBe('true');
    expect(s1.serf_wan!.encrypted).toBe('true');
    expect(stats(world, N3).serf_lan!.encrypted).toBe('true');
    const all = [...n1.process.output, ...n2.process.output, ...n3.process.output].join('\n');
    expect(all).not.toContain('No installed keys could decrypt');
    expect(all).not.toContain('byte limit');
    // Catalog writes cross Raft/RPC (not sealed) and work: n3 is registered.
    const nodes = JSON.parse(http(world, N3, 'GET', 'http://127.0.0.1:8500/v1/catalog/nodes').body) as { Node: string }[];
    expect(nodes.map((n) => n.Node).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('an agent without encryption reports encrypted = false', () => {
    const world = walkthroughWorld(12);
    spawnAgent(world, N1, serverArgs('n1', N1));
    world.runFor(500);
    expect(stats(world, N1).serf_lan!.encrypted).toBe('false');
  });

  it('wrong key: the join fails and the receiver logs that no installed key could decrypt', () => {
    const world = walkthroughWorld(13);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_A}`]));
    const n2 = spawnAgent(world, N2, serverArgs('n2', N2, [`-encrypt=${KEY_B}`]));
    world.runFor(1_000);
    expect(join(world, N2, N1)).not.toBe(200);
    world.runFor(5_000);
    expect(members(world, N1)).toEqual(['n1:1']);
    expect(members(world, N2)).toEqual(['n2:1']);
    expect(leaderOf(n1)).toBeNull();
    expect(n1.process.output.join('\n')).toMatch(
      /\[ERR\] memberlist: failed to receive: No installed keys could decrypt the message from=10\.10\.126\.101:8301/,
    );
  });

  it('no key against a key: neither side can join the other', () => {
    const world = walkthroughWorld(14);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_A}`]));
    const n3 = spawnAgent(world, N3, clientArgs('n3', N3));
    world.runFor(1_000);
    expect(join(world, N3, N1)).not.toBe(200);
    expect(join(world, N1, N3)).not.toBe(200);
    world.runFor(5_000);
    expect(members(world, N1)).toEqual(['n1:1']);
    expect(members(world, N3)).toEqual(['n3:1']);
    // The encrypted side refuses the plain one's messages; the plain side cannot decode sealed ones.
    expect(n1.process.output.join('\n')).toContain('No installed keys could decrypt the message from=10.10.126.187:8301');
    expect(n3.process.output.join('\n')).toMatch(/dropping malformed tcp message from 10\.10\.105\.71:8301/);
  });

  it('the keyring is reused on restart without -encrypt, and wins over a different -encrypt', () => {
    const world = walkthroughWorld(15);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_A}`]));
    spawnAgent(world, N2, serverArgs('n2', N2, [`-encrypt=${KEY_A}`]));
    world.runFor(1_000);
    expect(join(world, N1, N2)).toBe(200);
    world.runFor(5_000);
    expect(leaderOf(n1)).not.toBeNull();

    // Restart n1 with no -encrypt: the keyring keeps it encrypted and it rejoins n2.
    n1.process.signal('SIGTERM');
    world.runFor(1_000);
    const again = spawnAgent(world, N1, serverArgs('n1', N1));
    world.runFor(1_000);
    expect(again.process.output).toContain('    Gossip encrypt: true, RPC-TLS: false, TLS-Incoming: false');
    expect(stats(world, N1).serf_lan!.encrypted).toBe('true');
    expect(join(world, N1, N2)).toBe(200);
    world.runFor(3_000);
    expect(members(world, N1)).toEqual(['n1:1', 'n2:1']);

    // Restart with another key: warned and ignored; the keyring's key still talks to n2.
    again.process.signal('SIGTERM');
    world.runFor(1_000);
    const third = spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_B}`]));
    world.runFor(1_000);
    expect(third.process.output).toContain('==> WARNING: LAN keyring exists but -encrypt given, using keyring');
    expect(third.process.output).toContain('==> WARNING: WAN keyring exists but -encrypt given, using keyring');
    expect(world.host(N1).disk.readText('/tmp/consul/serf/local.keyring')).toBe(JSON.stringify([KEY_A]));
    expect(join(world, N1, N2)).toBe(200);
    world.runFor(3_000);
    expect(members(world, N1)).toEqual(['n1:1', 'n2:1']);
    expect(third.process.output.join('\n')).not.toContain('No installed keys could decrypt');
  });

  it('a corrupt keyring stops the agent with the file named', () => {
    const world = walkthroughWorld(16);
    world.host(N1).disk.writeText('/tmp/consul/serf/local.keyring', '["not a key"]');
    const a = spawnAgent(world, N1, serverArgs('n1', N1));
    world.runFor(100);
    expect(a.agent).toBeNull();
    expect(a.process.exitCode).toBe(1);
    expect(a.process.output.join('\n')).toContain('==> Error starting agent: Failed to configure keyring: keyring serf/local.keyring: entry 0: Invalid encryption key');
  });

  it('a 14-node encrypted cluster converges, with gossip packed for the seal overhead', () => {
    const world = new SimWorld({ seed: 17, traceEnabled: false });
    const ips = Array.from({ length: 14 }, (_, i) => `10.20.0.${i + 1}`);
    for (const ip of ips) world.addHost(ip);
    const agents = ips.map((ip, i) =>
      spawnAgent(world, ip, i === 0 ? ['-server', '-bootstrap', '-data-dir=/d', `-node=s${i}`, `-bind=${ip}`, `-encrypt=${KEY_A}`] : ['-data-dir=/d', `-node=c${i}`, `-bind=${ip}`, `-encrypt=${KEY_A}`]),
    );
    world.runFor(500);
    for (const ip of ips.slice(1)) expect(join(world, ip, ips[0]!)).toBe(200);
    world.runFor(10_000);
    expect(agents[0]!.agent!.agent.lan.cfg.udpBufferSize).toBe(1400 - SEAL_OVERHEAD_BYTES);
    expect(members(world, ips[5]!).length).toBe(14);
    const all = agents.flatMap((a) => a.process.output).join('\n');
    expect(all).not.toContain('byte limit');
    expect(all).not.toContain('No installed keys could decrypt');
  });

  it('is deterministic: the same seed gives the same trace with encryption on', () => {
    const run = (): string => {
      const world = new SimWorld({ seed: 'enc-det', traceEnabled: true });
      world.addHost(N1, 'n1');
      world.addHost(N2, 'n2');
      spawnAgent(world, N1, serverArgs('n1', N1, [`-encrypt=${KEY_A}`]));
      spawnAgent(world, N2, serverArgs('n2', N2, [`-encrypt=${KEY_A}`]));
      world.runFor(500);
      join(world, N1, N2);
      world.runFor(3_000);
      return world.traceHash();
    };
    expect(run()).toBe(run());
  });
});
