// test/transports/net.test.ts — RealNetwork over real loopback sockets (127.0.0.x only).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES as DEFAULT_MAX, encodeFrame } from '../../core/codec/frame.ts';
import { RealNetwork, type RealNetworkOptions, type StreamFailure } from '../../transports/net.ts';

// Ports private to this file so parallel test files never collide.
const BASE = 47300;
const A_IP = '127.0.0.2';
const B_IP = '127.0.0.3';

const opened: RealNetwork[] = [];
const servers: net.Server[] = [];
const rawSockets: net.Socket[] = [];

function network(ip: string, opts: RealNetworkOptions = {}): RealNetwork {
  const n = new RealNetwork(ip, opts);
  opened.push(n);
  return n;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((n) => n.close()));
  for (const sock of rawSockets.splice(0)) sock.destroy();
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
        }),
    ),
  );
});

/** A raw TCP server (not a RealNetwork) for peers that misbehave on purpose. */
async function rawServer(ip: string, port: number, onConnection: (sock: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((sock) => {
    rawSockets.push(sock);
    onConnection(sock);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: ip }, () => resolve());
  });
  return server;
}

function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('RealNetwork datagrams', () => {
  it('round-trips a datagram between two hosts, reporting the sender port as from', async () => {
    const port = BASE + 1;
    const a = network(A_IP);
    const b = network(B_IP);
    const gotA: [string, string][] = [];
    const gotB: [string, string][] = [];
    a.bindDatagram(port, (from, data) => gotA.push([from, text(data)]));
    b.bindDatagram(port, (from, data) => {
      gotB.push([from, text(data)]);
      b.sendDatagram(port, from, bytes(`pong:${text(data)}`));
    });
    await Promise.all([a.ready(), b.ready()]);
    a.sendDatagram(port, `${B_IP}:${port}`, bytes('ping'));
    await waitFor(() => gotA.length === 1, 2000, 'the pong');
    expect(gotB).toEqual([[`${A_IP}:${port}`, 'ping']]);
    expect(gotA).toEqual([[`${B_IP}:${port}`, 'pong:ping']]);
  });

  it('drops a datagram from an unbound port with a log line instead of throwing', async () => {
    const logs: string[] = [];
    const a = network(A_IP, { log: (level, t) => logs.push(`${level} ${t}`) });
    expect(() => a.sendDatagram(BASE + 2, `${B_IP}:${BASE + 2}`, bytes('x'))).not.toThrow();
    expect(() => a.sendDatagram(BASE + 2, 'not-an-address', bytes('x'))).not.toThrow();
    expect(logs.some((l) => l.startsWith('WARN') && l.includes(`${A_IP}:${BASE + 2}`))).toBe(true);
  });
});

describe('RealNetwork streams', () => {
  it('delivers 1,000 messages and a 1 MiB message in order over one reused connection', async () => {
    const port = BASE + 10;
    const a = network(A_IP);
    const b = network(B_IP);
    const got: { from: string; data: Uint8Array }[] = [];
    a.listenStream(port, () => {});
    b.listenStream(port, (from, data) => got.push({ from, data }));
    await Promise.all([a.ready(), b.ready()]);
    const failures: string[] = [];
    const onFailure = (to: string, reason: StreamFailure): void => {
      failures.push(`${to} ${reason}`);
    };
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    for (let i = 0; i < 500; i++) a.sendStream(port, `${B_IP}:${port}`, bytes(`m${i}`), onFailure);
    a.sendStream(port, `${B_IP}:${port}`, big, onFailure);
    for (let i = 500; i < 1000; i++) a.sendStream(port, `${B_IP}:${port}`, bytes(`m${i}`), onFailure);
    await waitFor(() => got.length === 1001, 5000, '1001 messages');
    expect(failures).toEqual([]);
    // The receiver names the sender's listening address, not its ephemeral port.
    expect(new Set(got.map((g) => g.from))).toEqual(new Set([`${A_IP}:${port}`]));
    const small = got.filter((g) => g.data.length < 100).map((g) => text(g.data));
    expect(small).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
    expect(got[500]!.data.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(got[500]!.data), Buffer.from(big))).toBe(0);
    expect(b.inboundStreams).toBe(1);
    // Everything handled was acknowledged back to the sender.
    await waitFor(() => a.streamStats()[0]!.pendingBytes === 0, 2000, 'acks');
    expect(a.streamStats()).toEqual([
      { fromPort: port, to: `${B_IP}:${port}`, state: 'open', queuedMessages: 0, pendingBytes: 0, failures: 0 },
    ]);
  });

  it("reports 'refused' when nothing listens, never from inside sendStream", async () => {
    const port = BASE + 20;
    const a = network(A_IP, { reconnectBaseMs: 20 });
    const failures: [string, StreamFailure, string][] = [];
    let inCall = false;
    let reentrant = false;
    const onFailure = (to: string, reason: StreamFailure, data: Uint8Array): void => {
      if (inCall) reentrant = true;
      failures.push([to, reason, text(data)]);
    };
    inCall = true;
    a.sendStream(port, `${B_IP}:${port}`, bytes('hello?'), onFailure);
    inCall = false;
    await waitFor(() => failures.length === 1, 2000, 'the refusal');
    expect(failures).toEqual([[`${B_IP}:${port}`, 'refused', 'hello?']]);
    // A send during the back-off waits for the next attempt, which is refused too.
    a.sendStream(port, `${B_IP}:${port}`, bytes('again'), onFailure);
    await waitFor(() => failures.length === 2, 2000, 'the second refusal');
    expect(failures[1]).toEqual([`${B_IP}:${port}`, 'refused', 'again']);
    expect(a.streamStats()[0]!.failures).toBe(2);
    expect(reentrant).toBe(false);
  });

  it("reports 'reset' for pending messages when the peer drops the connection", async () => {
    const port = BASE + 30;
    let peer: net.Socket | null = null;
    let received = 0;
    await rawServer(B_IP, port, (sock) => {
      peer = sock;
      sock.once('data', (chunk) => {
        received += chunk.length;
        sock.pause(); // stop reading so our writes back up, then drop the connection
        setTimeout(() => sock.resetAndDestroy(), 100);
      });
    });
    const a = network(A_IP);
    a.listenStream(port, () => {});
    await a.ready();
    const reasons: StreamFailure[] = [];
    const chunk = new Uint8Array(256 * 1024);
    // 12 MiB, under the 16 MiB queue bound. The peer never acknowledges, so every message is
    // still undelivered at the reset, including those the kernel had already accepted.
    for (let i = 0; i < 48; i++) a.sendStream(port, `${B_IP}:${port}`, chunk, (_to, reason) => reasons.push(reason));
    await waitFor(() => reasons.length === 48, 5000, '48 reset failures');
    expect(peer).not.toBeNull();
    expect(received).toBeGreaterThan(0);
    expect(new Set(reasons)).toEqual(new Set(['reset']));
    expect(a.streamStats()[0]!.pendingBytes).toBe(0);
    expect(a.streamStats()[0]!.state).toBe('idle');
  });

  it('reconnects after the peer restarts', async () => {
    const port = BASE + 40;
    const a = network(A_IP, { reconnectBaseMs: 20, reconnectCapMs: 200 });
    const got: string[] = [];
    a.listenStream(port, () => {});
    let b = network(B_IP);
    b.listenStream(port, (_from, data) => got.push(text(data)));
    await Promise.all([a.ready(), b.ready()]);
    const failed: string[] = [];
    const onFailure = (_to: string, reason: StreamFailure, data: Uint8Array): void => {
      failed.push(`${text(data)}:${reason}`);
    };
    a.sendStream(port, `${B_IP}:${port}`, bytes('one'), onFailure);
    await waitFor(() => got.length === 1, 2000, 'first message');
    await b.close();
    a.sendStream(port, `${B_IP}:${port}`, bytes('two'), onFailure);
    await waitFor(() => failed.length === 1, 2000, 'failure while the peer is down');
    expect(failed[0]).toMatch(/^two:(refused|reset)$/);
    b = network(B_IP);
    b.listenStream(port, (_from, data) => got.push(text(data)));
    await b.ready();
    a.sendStream(port, `${B_IP}:${port}`, bytes('three'), onFailure);
    await waitFor(() => got.length === 2, 3000, 'message after restart');
    expect(got).toEqual(['one', 'three']);
    expect(failed).toHaveLength(1);
    expect(a.streamStats()[0]).toMatchObject({ state: 'open', failures: 0 });
  });

  it('bounds the queue for a peer that never reads, failing the excess with timeout', async () => {
    const port = BASE + 50;
    await rawServer(B_IP, port, (sock) => sock.pause());
    const maxQueueBytes = 1024 * 1024;
    const a = network(A_IP, { maxQueueBytes, writeStallTimeoutMs: 500 });
    a.listenStream(port, () => {});
    await a.ready();
    const reasons: StreamFailure[] = [];
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    let maxPending = 0;
    // 8 MiB offered over a few event-loop turns against a 1 MiB bound.
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 16; i++) {
        a.sendStream(port, `${B_IP}:${port}`, chunk, (_to, reason) => reasons.push(reason));
        sent++;
        maxPending = Math.max(maxPending, a.streamStats()[0]!.pendingBytes);
      }
      await sleep(5);
    }
    const overflowed = reasons.length;
    expect(maxPending).toBeLessThanOrEqual(maxQueueBytes);
    expect(a.streamStats()[0]!.pendingBytes).toBeGreaterThan(0);
    expect(overflowed).toBeGreaterThanOrEqual(sent - maxQueueBytes / chunk.length);
    // Nothing is acknowledged, so the stall timeout fails what is still queued: every message
    // is accounted for, none is silently lost.
    await waitFor(() => reasons.length === sent, 3000, 'stall timeout');
    expect(a.streamStats()[0]!.pendingBytes).toBe(0);
    expect(new Set(reasons)).toEqual(new Set(['timeout']));
  });

  it("reports 'timeout' when a connection cannot be established in time", async () => {
    const port = BASE + 58;
    // A listener whose process never accepts: once its backlog is full the kernel drops
    // further SYNs, so a connect hangs exactly like one to a vanished host.
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen({port:${port},host:'${B_IP}',backlog:1},()=>{console.log('up');const e=Date.now()+5000;while(Date.now()<e){}})`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const fillers: net.Socket[] = [];
      for (let i = 0; i < 2; i++) {
        const f = net.connect({ host: B_IP, port });
        f.on('error', () => {});
        fillers.push(f);
        rawSockets.push(f);
        await new Promise<void>((resolve) => f.once('connect', () => resolve()));
      }
      const a = network(A_IP, { connectTimeoutMs: 200 });
      const reasons: StreamFailure[] = [];
      const start = Date.now();
      a.sendStream(port, `${B_IP}:${port}`, bytes('anyone?'), (_to, r) => reasons.push(r));
      await waitFor(() => reasons.length === 1, 2000, 'the connect timeout');
      expect(reasons).toEqual(['timeout']);
      expect(Date.now() - start).toBeGreaterThanOrEqual(190);
      expect(a.streamStats()[0]!.state).toBe('backoff');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('bounds the number of queued messages', async () => {
    const port = BASE + 55;
    await rawServer(B_IP, port, (sock) => sock.pause());
    const a = network(A_IP, { maxQueueMessages: 10 });
    a.listenStream(port, () => {});
    await a.ready();
    const reasons: StreamFailure[] = [];
    for (let i = 0; i < 25; i++) a.sendStream(port, `${B_IP}:${port}`, bytes(`x${i}`), (_to, r) => reasons.push(r));
    expect(a.streamStats()[0]!.queuedMessages).toBe(10);
    await waitFor(() => reasons.length === 15, 2000, '15 overflow failures');
    expect(new Set(reasons)).toEqual(new Set(['timeout']));
  });

  it('closes an incoming stream that does not start with a hello, or sends an oversized frame', async () => {
    const port = BASE + 60;
    const got: string[] = [];
    const logs: string[] = [];
    const b = network(B_IP, { maxFrameBytes: 1024, log: (level, t) => logs.push(`${level} ${t}`) });
    b.listenStream(port, (_from, data) => got.push(text(data)));
    await b.ready();
    const closedAfter = async (payload: Uint8Array): Promise<void> => {
      const sock = net.connect({ host: B_IP, port, localAddress: A_IP });
      await new Promise<void>((resolve, reject) => {
        sock.on('error', () => {});
        sock.on('close', () => resolve());
        sock.on('connect', () => sock.write(payload));
        setTimeout(() => reject(new Error('the server kept a bad stream open')), 2000);
      });
    };
    await closedAfter(encodeFrame(bytes('not a hello')));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1_000_000, 0);
    await closedAfter(header);
    expect(got).toEqual([]);
    expect(logs.some((l) => l.includes('hello'))).toBe(true);
    expect(logs.some((l) => l.includes('1000000 bytes'))).toBe(true);
  });

  it('fails an oversized outgoing message instead of queueing it', async () => {
    const a = network(A_IP, { maxFrameBytes: 1000 });
    const reasons: StreamFailure[] = [];
    a.sendStream(BASE + 61, `${B_IP}:${BASE + 61}`, new Uint8Array(2000), (_to, r) => reasons.push(r));
    await waitFor(() => reasons.length === 1, 1000, 'the failure');
    expect(reasons).toEqual(['timeout']);
    expect(a.streamStats()).toEqual([]);
  });
});

describe('RealNetwork binding', () => {
  it('gives a clear error when a TCP or UDP port is taken', async () => {
    const port = BASE + 70;
    const first = network(A_IP);
    first.listenStream(port, () => {});
    first.bindDatagram(port, () => {});
    await first.ready();
    const second = network(A_IP);
    second.listenStream(port, () => {});
    await expect(second.ready()).rejects.toThrow(
      new RegExp(`^cannot bind TCP ${A_IP.replace(/\./g, '\\.')}:${port}: address already in use .*\\(EADDRINUSE\\)$`),
    );
    second.bindDatagram(port, () => {});
    await expect(second.ready()).rejects.toThrow(/^cannot bind UDP 127\.0\.0\.2:47370: address already in use/);
    // Binding the same port twice on one host is a programming error: thrown at once.
    expect(() => first.listenStream(port, () => {})).toThrow(/already bound by this host/);
    expect(() => first.bindDatagram(0, () => {})).toThrow(/not a port number/);
  });

  it('explains an ip that is not on this machine', async () => {
    const a = network('192.0.2.77'); // TEST-NET-1: never assigned locally; nothing is sent
    a.bindDatagram(BASE + 71, () => {});
    await expect(a.ready()).rejects.toThrow(/cannot bind UDP 192\.0\.2\.77:47371: address not available .*EADDRNOTAVAIL/);
    expect(() => new RealNetwork('localhost')).toThrow(/not an IPv4 address/);
  });

  it('ready() settles when the host closes while a bind is still in progress', async () => {
    const a = network(A_IP);
    a.bindDatagram(BASE + 75, () => {});
    a.listenStream(BASE + 75, () => {});
    a.closeAll();
    await expect(a.ready()).resolves.toBeUndefined();
  });

  it('reports nothing after closeAll: the host is going away', async () => {
    const a = network(A_IP);
    const reasons: StreamFailure[] = [];
    a.sendStream(BASE + 76, `${B_IP}:${BASE + 76}`, bytes('late'), (_to, r) => reasons.push(r));
    a.sendStream(BASE + 76, `${B_IP}:${BASE + 76}`, new Uint8Array(DEFAULT_MAX + 1), (_to, r) => reasons.push(r));
    a.closeAll();
    await sleep(100);
    expect(reasons).toEqual([]);
    expect(a.streamStats()).toEqual([]);
  });

  it('releases every port on close so another host can bind them', async () => {
    const port = BASE + 80;
    const first = network(A_IP);
    first.listenStream(port, () => {});
    first.bindDatagram(port, () => {});
    await first.ready();
    await first.close();
    const second = network(A_IP);
    second.listenStream(port, () => {});
    second.bindDatagram(port, () => {});
    await expect(second.ready()).resolves.toBeUndefined();
  });
});
