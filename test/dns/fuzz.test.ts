// Fuzzing the DNS interface: 100,000 random and mutated packets into answerQuery, then a
// few thousand over real UDP/TCP into transports/dns-server.ts; a valid query must still answer.
// Replay a failure with DNS_FUZZ_SEED=<seed> npx vitest run test/dns/fuzz.test.ts
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveQuery } from '../../core/dns/answer.ts';
import { makeDnsConfig } from '../../core/dns/config.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { readMessage } from '../../core/dns/wire.ts';
import { makeRng, type Rng } from '../../core/rng.ts';
import { startDnsServer, type DnsServer } from '../../transports/dns-server.ts';
import { walkthroughView } from './fake-view.ts';

const SEED = process.env.DNS_FUZZ_SEED ?? `dns-fuzz-${Date.now()}`;
const REPLAY = `DNS_FUZZ_SEED=${SEED} npx vitest run test/dns/fuzz.test.ts`;

const NAMES = [
  'web3.service.consul', 'master.web3.service.consul', '_web3._tcp.service.consul', 'n2.node.dc1.consul',
  'nothere.service.consul', 'WEB3.SERVICE.CONSUL', 'example.org', 'consul', 'many.service.consul', '.',
];
const TYPES = ['A', 'AAAA', 'SRV', 'ANY', 'TXT', 'SOA', 'MX', 'PTR'];

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

function validQuery(rng: Rng): Uint8Array {
  return buildQuery(NAMES[rng.int(NAMES.length)]!, TYPES[rng.int(TYPES.length)]!, {
    id: rng.int(65536),
    rd: rng.chance(0.8),
    ednsPayloadBytes: rng.chance(0.5) ? rng.range(0, 65535) : undefined,
  });
}

function mutate(rng: Rng, base: Uint8Array): Uint8Array {
  let b = Uint8Array.from(base);
  const ops = rng.range(1, 4);
  for (let k = 0; k < ops; k++) {
    switch (rng.int(7)) {
      case 0: // bit flips
        for (let i = rng.range(1, 8); i > 0 && b.length > 0; i--) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // random byte values
        for (let i = rng.range(1, 4); i > 0 && b.length > 0; i--) b[rng.int(b.length)] = rng.int(256);
        break;
      case 2: // truncation
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 3: {
        // trailing garbage
        const tail = randomBytes(rng, rng.range(1, 64));
        const c = new Uint8Array(b.length + tail.length);
        c.set(b);
        c.set(tail, b.length);
        b = c;
        break;
      }
      case 4: // section counts
        if (b.length >= 12) {
          const at = 4 + 2 * rng.int(4);
          b[at] = rng.chance(0.5) ? 0xff : 0;
          b[at + 1] = rng.int(256);
        }
        break;
      case 5: // compression pointers anywhere
        if (b.length > 14) {
          const at = 12 + rng.int(b.length - 13);
          b[at] = 0xc0 | rng.int(64);
          b[at + 1] = rng.int(256);
        }
        break;
      default: // flags and opcode
        if (b.length >= 4) b[2] = rng.int(256);
    }
  }
  return b;
}

describe('DNS fuzz', () => {
  it('100,000 random and mutated packets never throw, and every reply is a well-formed DNS response', () => {
    const rng = makeRng(SEED);
    const view = walkthroughView();
    for (let i = 0; i < 10; i++) view.addNode(`m${i}`, `10.0.0.${i + 1}`).addService(`m${i}`, 'many', 'many', { port: 20000 + i });
    const config = makeDnsConfig();
    const answerRng = rng.fork('answers');
    let replies = 0;
    let drops = 0;
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) {
      const pkt = rng.chance(0.3) ? randomBytes(rng, rng.int(600)) : mutate(rng, validQuery(rng));
      const transport = rng.chance(0.5) ? 'udp' : 'tcp';
      let out: ReturnType<typeof resolveQuery>;
      try {
        out = resolveQuery(pkt, { view, config, rng: answerRng, transport, datacenter: 'dc1' });
      } catch (e) {
        throw new Error(`packet #${i} made resolveQuery throw (${String(e)}); replay: ${REPLAY}`);
      }
      const internal = out.logs.find((l) => l.level === 'ERR' && l.text.startsWith('failed to answer'));
      if (internal) throw new Error(`packet #${i} hit an internal error: ${internal.text}; replay: ${REPLAY}`);
      if (out.kind !== 'reply') {
        drops++;
        continue;
      }
      replies++;
      let parsed: ReturnType<typeof readMessage>;
      try {
        parsed = readMessage(out.bytes);
      } catch (e) {
        throw new Error(`packet #${i} got an unparsable reply (${String(e)}); replay: ${REPLAY}`);
      }
      if (parsed.header.id !== ((pkt[0]! << 8) | pkt[1]!) || !parsed.header.qr) {
        throw new Error(`packet #${i}: reply id/QR wrong; replay: ${REPLAY}`);
      }
      const limit = transport === 'tcp' ? 65535 : 65507;
      if (out.bytes.length > limit) throw new Error(`packet #${i}: reply of ${out.bytes.length} bytes; replay: ${REPLAY}`);
    }
    expect(replies + drops).toBe(100_000);
    expect(replies).toBeGreaterThan(50_000);
    expect(Date.now() - started).toBeLessThan(20_000);

    const ok = resolveQuery(buildQuery('web3.service.consul', 'SRV', { id: 77 }), { view, config, rng: answerRng, transport: 'udp', datacenter: 'dc1' });
    expect(ok.kind).toBe('reply');
    expect(ok.kind === 'reply' && readMessage(ok.bytes).answers.length).toBe(2);
  });

  describe('over real sockets', () => {
    let server: DnsServer;
    const errors: string[] = [];
    beforeAll(async () => {
      const view = walkthroughView();
      const config = makeDnsConfig();
      const rng = makeRng(`${SEED}/server`);
      server = await startDnsServer({
        ip: '127.0.0.1',
        port: 0,
        answer: (bytes, transport) => {
          const out = resolveQuery(bytes, { view, config, rng, transport, datacenter: 'dc1' });
          return out.kind === 'reply' ? out.bytes : null;
        },
        onError: (t) => errors.push(t),
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    const udpAsk = (sock: dgram.Socket, q: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no UDP answer within 3 s; replay: ${REPLAY}`)), 3000);
        sock.once('message', (msg) => {
          clearTimeout(timer);
          resolve(new Uint8Array(msg));
        });
        sock.send(q, server.port, '127.0.0.1');
      });

    it('survives 5,000 bad datagrams and garbage TCP streams, then answers a valid query on both', async () => {
      const rng = makeRng(`${SEED}/wire`);
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      sock.on('message', () => {});
      for (let i = 0; i < 5000; i++) {
        const pkt = rng.chance(0.3) ? randomBytes(rng, rng.int(600)) : mutate(rng, validQuery(rng));
        sock.send(pkt, server.port, '127.0.0.1');
        if (i % 250 === 0) await new Promise((r) => setImmediate(r));
      }
      for (let c = 0; c < 20; c++) {
        await new Promise<void>((resolve) => {
          const s = net.connect(server.port, '127.0.0.1', () => {
            const junk = c % 2 === 0 ? randomBytes(rng, rng.range(1, 3000)) : Uint8Array.from([0xff, 0xff, ...randomBytes(rng, 100)]);
            s.end(junk);
          });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.setTimeout(2000, () => s.destroy());
          s.on('data', () => {});
        });
      }
      sock.removeAllListeners('message');
      const reply = await udpAsk(sock, buildQuery('web3.service.consul', 'SRV', { id: 4321 }));
      sock.close();
      const m = readMessage(reply);
      expect(m.header.id).toBe(4321);
      expect(m.answers).toHaveLength(2);

      // TCP: two pipelined queries on one connection, split across writes.
      const q1 = buildQuery('web3.service.consul', 'SRV', { id: 1 });
      const q2 = buildQuery('n2.node.consul', 'A', { id: 2 });
      const framed = new Uint8Array(4 + q1.length + q2.length);
      framed.set([q1.length >> 8, q1.length & 255], 0);
      framed.set(q1, 2);
      framed.set([q2.length >> 8, q2.length & 255], 2 + q1.length);
      framed.set(q2, 4 + q1.length);
      const ids = await new Promise<number[]>((resolve, reject) => {
        const s = net.connect(server.port, '127.0.0.1', () => {
          s.write(framed.subarray(0, 7));
          setTimeout(() => s.write(framed.subarray(7)), 20);
        });
        let buf = Buffer.alloc(0);
        const got: number[] = [];
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const len = buf.readUInt16BE(0);
            got.push(readMessage(buf.subarray(2, 2 + len)).header.id);
            buf = buf.subarray(2 + len);
          }
          if (got.length === 2) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        setTimeout(() => reject(new Error(`no TCP answers; replay: ${REPLAY}`)), 3000);
      });
      expect(ids).toEqual([1, 2]);
      expect(errors.filter((e) => e.includes('threw'))).toEqual([]);
    });

    it('reports a clear error when the port is taken', async () => {
      await expect(startDnsServer({ ip: '127.0.0.1', port: server.port, answer: () => null })).rejects.toThrow(
        /DNS server could not listen on udp 127\.0\.0\.1:\d+: address already in use/,
      );
    });
  });
});
