// transports/net.ts — the real network: UDP datagrams and framed TCP message streams.
//
// Owns: binding a host's UDP/TCP ports on one local ip, sending datagrams, and carrying
// whole messages over reused, on-demand TCP connections with bounded queues, reconnect
// back-off and failure reports ('refused' | 'reset' | 'timeout').
// Must never: crash the process on a socket error, grow memory without bound for a slow
// peer, call a port callback from inside the call that started it, or interpret payloads.
//
// Wire shape of a stream: every frame is a u32 big-endian length + payload. The first
// frame of each outgoing connection is a hello carrying the sender's LISTENING address,
// because the receiver must report `from` as the address replies go to, not the
// ephemeral port the connection happens to come from.
//
// The receiver answers on the same connection with bare u32 big-endian counts: "this many
// more messages were handed to my handler". A message is settled only when acknowledged,
// so a message the kernel accepted but the peer never read (peer crashed, connection
// reset) is reported as failed instead of vanishing, and the per-destination bound counts
// everything not yet delivered, kernel buffers included. A peer that dies after handling a
// message but before its ack arrives causes a failure report for a delivered message:
// callers get at-least-once, never silently-lost.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { LogLevel } from '../core/machine.ts';
import { splitAddr } from '../core/machine.ts';
import type {
  DatagramHandler,
  NetworkPort,
  StreamFailureHandler,
  StreamMessageHandler,
} from '../core/runtime/ports.ts';
import { errnoCode, explainErrno } from './errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from '../core/codec/frame.ts';

export type StreamFailure = 'refused' | 'reset' | 'timeout';

export interface RealNetworkOptions {
  /** Give up a connection attempt after this long (reason 'timeout'). */
  connectTimeoutMs?: number;
  /** First reconnect delay after a failed attempt; doubles per consecutive failure. */
  reconnectBaseMs?: number;
  /** Longest reconnect delay. */
  reconnectCapMs?: number;
  /** Per-destination bound on bytes queued or in flight; beyond it sends fail with 'timeout'. */
  maxQueueBytes?: number;
  /** Per-destination bound on messages queued or in flight. */
  maxQueueMessages?: number;
  /** Largest single message accepted for sending or receiving. */
  maxFrameBytes?: number;
  /** A connection with data to send that makes no progress this long is dropped ('timeout'). */
  writeStallTimeoutMs?: number;
  /** Where socket trouble is reported; transports never throw it at the event loop. */
  log?: (level: LogLevel, text: string) => void;
  /** TLS on one stream port (server RPC): listening on it and dialing it (transports/tls.ts). */
  tls?: StreamTls;
}

export interface StreamTls {
  port: number;
  server: tls.TlsOptions;
  client: tls.ConnectionOptions;
}

const DEFAULTS = {
  connectTimeoutMs: 3_000,
  reconnectBaseMs: 50,
  reconnectCapMs: 2_000,
  maxQueueBytes: 16 * 1024 * 1024,
  maxQueueMessages: 10_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  writeStallTimeoutMs: 10_000,
};

// How much we hand to a socket before waiting for 'drain'; the rest waits in our own
// queue, where it is counted against the bound and can still be failed cleanly.
const SOCKET_WRITE_HIGH_WATER_BYTES = 256 * 1024;

// Lets the kernel notice a peer host that vanished without closing its connections.
const KEEPALIVE_DELAY_MS = 30_000;

const HELLO_MAGIC = Buffer.from('MSTH', 'ascii');
const HELLO_VERSION = 1;

export class BindError extends Error {
  constructor(
    readonly proto: 'UDP' | 'TCP',
    readonly addr: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`cannot bind ${proto} ${addr}: ${explainErrno(cause)}`);
    this.name = 'BindError';
  }
}

export function encodeHello(listenAddr: string): Buffer {
  const addr = Buffer.from(listenAddr, 'utf8');
  return Buffer.concat([HELLO_MAGIC, Buffer.from([HELLO_VERSION]), addr]);
}

/** The listening address in a hello frame, or null if the frame is not a valid hello. */
export function decodeHello(frame: Uint8Array): string | null {
  if (frame.length < HELLO_MAGIC.length + 2) return null;
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  if (!buf.subarray(0, HELLO_MAGIC.length).equals(HELLO_MAGIC)) return null;
  if (buf[HELLO_MAGIC.length] !== HELLO_VERSION) return null;
  const addr = buf.subarray(HELLO_MAGIC.length + 1).toString('utf8');
  try {
    splitAddr(addr);
  } catch {
    return null;
  }
  return addr;
}

interface Pending {
  frame: Uint8Array;
  bytes: Uint8Array;
  onFailure: StreamFailureHandler;
  settled: boolean;
}

type OutboundState = 'idle' | 'connecting' | 'open' | 'backoff';

/** One reused connection from a local listening port to one destination. */
interface Outbound {
  readonly fromPort: number;
  readonly to: string;
  readonly host: string;
  readonly port: number;
  state: OutboundState;
  socket: net.Socket | null;
  /** Not yet handed to the socket. */
  queue: Pending[];
  /** Handed to the socket, not yet acknowledged by the receiver. */
  inflight: Pending[];
  /** Partial ack bytes carried between reads. */
  ackCarry: Buffer;
  pendingBytes: number;
  failures: number;
  lastError: unknown;
  closeReason: StreamFailure | null;
  connectTimer: NodeJS.Timeout | null;
  retryTimer: NodeJS.Timeout | null;
  overflowLogged: boolean;
  dead: boolean;
  /** A flush is scheduled for the end of this turn (all messages of one turn go in one write). */
  flushQueued: boolean;
}

export interface StreamStats {
  fromPort: number;
  to: string;
  state: OutboundState;
  queuedMessages: number;
  pendingBytes: number;
  failures: number;
}

export class RealNetwork implements NetworkPort {
  private readonly opts: typeof DEFAULTS;
  private readonly logFn: (level: LogLevel, text: string) => void;
  private readonly tls: StreamTls | null;
  private readonly udp = new Map<number, dgram.Socket>();
  private readonly servers = new Map<number, net.Server>();
  private readonly inbound = new Set<net.Socket>();
  private readonly outbound = new Map<string, Outbound>();
  private pendingBinds: Promise<BindError | null>[] = [];
  /** Settles binds still in progress when closeAll runs, so ready() can never hang. */
  private readonly bindAborts = new Set<() => void>();
  private closing: Promise<void>[] = [];
  private generation = 0;

  constructor(
    readonly ip: string,
    options: RealNetworkOptions = {},
  ) {
    if (!net.isIPv4(ip)) throw new Error(`network ip '${ip}' is not an IPv4 address (e.g. 127.0.0.2)`);
    const { log, tls: tlsOpts, ...rest } = options;
    this.tls = tlsOpts ?? null;
    this.opts = { ...DEFAULTS, ...stripUndefined(rest) };
    this.logFn = log ?? (() => {});
    if (this.opts.maxFrameBytes > this.opts.maxQueueBytes) this.opts.maxFrameBytes = this.opts.maxQueueBytes;
  }

  // ---- binding ---------------------------------------------------------------------------

  bindDatagram(port: number, onDatagram: DatagramHandler): void {
    checkPort(port, 'UDP');
    if (this.udp.has(port)) throw new Error(`UDP port ${this.ip}:${port} is already bound by this host`);
    const addr = `${this.ip}:${port}`;
    const sock = dgram.createSocket({ type: 'udp4' });
    this.udp.set(port, sock);
    this.pendingBinds.push(
      new Promise((settle) => {
        const abort = (): void => settle(null);
        this.bindAborts.add(abort);
        const resolve = (result: BindError | null): void => {
          this.bindAborts.delete(abort);
          settle(result);
        };
        const onBindError = (err: Error): void => {
          if (this.udp.get(port) === sock) this.udp.delete(port);
          sock.close();
          const bindError = new BindError('UDP', addr, errnoCode(err), err);
          this.log('ERR', bindError.message);
          resolve(bindError);
        };
        sock.once('error', onBindError);
        sock.once('listening', () => {
          sock.off('error', onBindError);
          sock.on('error', (err) => this.log('WARN', `UDP ${addr}: ${explainErrno(err)}`));
          resolve(null);
        });
      }),
    );
    sock.on('message', (msg, rinfo) => {
      try {
        onDatagram(`${rinfo.address}:${rinfo.port}`, msg);
      } catch (err) {
        this.log('ERR', `UDP ${addr}: handler failed: ${describe(err)}`);
      }
    });
    sock.bind({ port, address: this.ip, exclusive: true });
  }

  listenStream(port: number, onMessage: StreamMessageHandler): void {
    checkPort(port, 'TCP');
    if (this.servers.has(port)) throw new Error(`TCP port ${this.ip}:${port} is already bound by this host`);
    const addr = `${this.ip}:${port}`;
    const secure = this.tls?.port === port ? this.tls : null;
    // With TLS the server asks for a certificate but decides itself (rejectUnauthorized off at
    // the handshake), so every refusal is logged with the peer and the reason.
    const server: net.Server = secure
      ? tls.createServer({ ...secure.server, noDelay: true, requestCert: secure.server.requestCert ?? false, rejectUnauthorized: false })
      : net.createServer({ noDelay: true });
    this.servers.set(port, server);
    this.pendingBinds.push(
      new Promise((settle) => {
        const abort = (): void => settle(null);
        this.bindAborts.add(abort);
        const resolve = (result: BindError | null): void => {
          this.bindAborts.delete(abort);
          settle(result);
        };
        const onBindError = (err: Error): void => {
          if (this.servers.get(port) === server) this.servers.delete(port);
          const bindError = new BindError('TCP', addr, errnoCode(err), err);
          this.log('ERR', bindError.message);
          resolve(bindError);
        };
        server.once('error', onBindError);
        server.once('listening', () => {
          server.off('error', onBindError);
          server.on('error', (err) => this.log('WARN', `TCP ${addr}: ${explainErrno(err)}`));
          resolve(null);
        });
      }),
    );
    if (secure) {
      const mustVerify = secure.server.rejectUnauthorized ?? false;
      server.on('secureConnection', (sock: tls.TLSSocket) => {
        if (mustVerify && !sock.authorized) {
          const none = Object.keys(sock.getPeerCertificate() ?? {}).length === 0;
          const why = none ? 'no client certificate' : String(sock.authorizationError ?? 'certificate not trusted');
          this.log('WARN', `TCP ${addr}: refused TLS connection from ${remoteOf(sock)}: ${why}`);
          sock.destroy();
          return;
        }
        this.accept(addr, sock, onMessage);
      });
      server.on('tlsClientError', (err: Error, sock: tls.TLSSocket) => {
        this.log('WARN', `TCP ${addr}: refused TLS connection from ${remoteOf(sock)}: ${err.message}`);
        sock.destroy();
      });
    } else server.on('connection', (sock) => this.accept(addr, sock, onMessage));
    server.listen({ port, host: this.ip, exclusive: true });
  }

  /** Wait for every bind started so far; rejects with a BindError naming the address and cause. */
  async ready(): Promise<void> {
    const binds = this.pendingBinds;
    this.pendingBinds = [];
    const errors = (await Promise.all(binds)).filter((e): e is BindError => e !== null);
    if (errors.length === 1) throw errors[0]!;
    if (errors.length > 1) {
      const first = errors[0]!;
      const all = new BindError(first.proto, first.addr, first.code, new Error(errors.map((e) => e.message).join('; ')));
      all.message = errors.map((e) => e.message).join('; ');
      throw all;
    }
  }

  // ---- datagrams -------------------------------------------------------------------------

  sendDatagram(fromPort: number, to: string, bytes: Uint8Array): void {
    const sock = this.udp.get(fromPort);
    if (!sock) {
      this.log('WARN', `no UDP socket bound on ${this.ip}:${fromPort}; datagram to ${to} dropped`);
      return;
    }
    let dest: { ip: string; port: number };
    try {
      dest = splitAddr(to);
    } catch (err) {
      this.log('WARN', `datagram dropped: ${describe(err)}`);
      return;
    }
    sock.send(bytes, dest.port, dest.ip, (err) => {
      if (err) this.log('DEBUG', `UDP send ${this.ip}:${fromPort} -> ${to} failed: ${explainErrno(err)}`);
    });
  }

  // ---- streams: receiving ----------------------------------------------------------------

  private accept(localAddr: string, sock: net.Socket, onMessage: StreamMessageHandler): void {
    this.inbound.add(sock);
    sock.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    const decoder = new FrameDecoder(this.opts.maxFrameBytes);
    let peer: string | null = null;
    sock.on('data', (chunk: Buffer) => {
      const frames = decoder.push(chunk);
      if (decoder.error) {
        this.log('WARN', `TCP ${localAddr}: closing stream from ${peer ?? remoteOf(sock)}: ${decoder.error.message}`);
        sock.destroy();
        return;
      }
      let delivered = 0;
      for (const frame of frames) {
        if (sock.destroyed) return;
        if (peer === null) {
          peer = decodeHello(frame);
          if (peer === null) {
            this.log('WARN', `TCP ${localAddr}: closing stream from ${remoteOf(sock)}: it did not start with a hello frame`);
            sock.destroy();
            return;
          }
          continue;
        }
        delivered += 1;
        try {
          onMessage(peer, frame);
        } catch (err) {
          this.log('ERR', `TCP ${localAddr}: handler failed for message from ${peer}: ${describe(err)}`);
        }
      }
      if (delivered > 0 && !sock.destroyed) {
        // One ack per turn for every chunk read in it (one write instead of one per chunk).
        if (unacked === 0) setImmediate(sendAck);
        unacked += delivered;
      }
    });
    let unacked = 0;
    const sendAck = (): void => {
      const n = unacked;
      unacked = 0;
      if (n === 0 || sock.destroyed) return;
      const ack = Buffer.allocUnsafe(4);
      ack.writeUInt32BE(n, 0);
      sock.write(ack);
    };
    sock.on('error', (err) => this.log('DEBUG', `TCP ${localAddr}: stream from ${peer ?? remoteOf(sock)}: ${explainErrno(err)}`));
    sock.on('close', () => this.inbound.delete(sock));
  }

  // ---- streams: sending ------------------------------------------------------------------

  sendStream(fromPort: number, to: string, bytes: Uint8Array, onFailure: StreamFailureHandler): void {
    let dest: { ip: string; port: number };
    try {
      dest = splitAddr(to);
    } catch (err) {
      this.log('WARN', `stream message dropped: ${describe(err)}`);
      this.failLater(to, 'refused', bytes, onFailure);
      return;
    }
    if (bytes.length > this.opts.maxFrameBytes) {
      this.log('ERR', `stream message to ${to} is ${bytes.length} bytes, over the ${this.opts.maxFrameBytes}-byte limit; dropped`);
      this.failLater(to, 'timeout', bytes, onFailure);
      return;
    }
    const key = `${fromPort}>${to}`;
    let ob = this.outbound.get(key);
    if (!ob) {
      ob = newOutbound(fromPort, to, dest.ip, dest.port);
      this.outbound.set(key, ob);
    }
    const frame = encodeFrame(bytes, this.opts.maxFrameBytes);
    const queued = ob.queue.length + ob.inflight.length;
    if (queued + 1 > this.opts.maxQueueMessages || ob.pendingBytes + frame.length > this.opts.maxQueueBytes) {
      if (!ob.overflowLogged) {
        ob.overflowLogged = true;
        this.log('WARN', `stream queue to ${to} is full (${queued} messages, ${ob.pendingBytes} bytes); failing new messages until it drains`);
      }
      this.failLater(to, 'timeout', bytes, onFailure);
      return;
    }
    ob.queue.push({ frame, bytes, onFailure, settled: false });
    ob.pendingBytes += frame.length;
    if (ob.state === 'idle') this.connect(ob);
    else if (ob.state === 'open' && !ob.flushQueued) {
      // At the end of this turn: a host carrying out a group of inputs sends many messages
      // to one peer (acknowledgements, appends); they leave in one write.
      ob.flushQueued = true;
      process.nextTick(() => {
        ob.flushQueued = false;
        this.flush(ob);
      });
    }
  }

  /** Incoming stream connections currently open (for tests and diagnostics). */
  get inboundStreams(): number {
    return this.inbound.size;
  }

  /** Per-destination queue figures (for `info`-style output and tests). */
  streamStats(): StreamStats[] {
    return [...this.outbound.values()]
      .map((ob) => ({
        fromPort: ob.fromPort,
        to: ob.to,
        state: ob.state,
        queuedMessages: ob.queue.length + ob.inflight.length,
        pendingBytes: ob.pendingBytes,
        failures: ob.failures,
      }))
      .sort((a, b) => (a.to === b.to ? a.fromPort - b.fromPort : a.to < b.to ? -1 : 1));
  }

  private connect(ob: Outbound): void {
    ob.state = 'connecting';
    ob.lastError = null;
    ob.closeReason = null;
    const secure = this.tls?.port === ob.port ? this.tls : null;
    const base = { host: ob.host, port: ob.port, localAddress: this.ip, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS };
    const sock: net.Socket = secure ? tls.connect({ ...secure.client, ...base }) : net.connect(base);
    ob.socket = sock;
    ob.connectTimer = setTimeout(() => {
      ob.connectTimer = null;
      if (ob.socket !== sock || ob.state !== 'connecting') return;
      ob.closeReason = 'timeout';
      sock.destroy();
    }, this.opts.connectTimeoutMs);
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      if (ob.dead || ob.socket !== sock) return;
      clearTimer(ob, 'connectTimer');
      ob.state = 'open';
      ob.failures = 0;
      sock.setTimeout(this.opts.writeStallTimeoutMs);
      sock.write(encodeFrame(encodeHello(`${this.ip}:${ob.fromPort}`), this.opts.maxFrameBytes));
      this.flush(ob);
    });
    sock.on('timeout', () => {
      // Idle connections are fine; only a connection with undelivered data is stalled.
      if (ob.socket !== sock || (ob.queue.length === 0 && ob.inflight.length === 0)) return;
      this.log('WARN', `stream to ${ob.to} made no progress for ${this.opts.writeStallTimeoutMs} ms; dropping it`);
      ob.closeReason = 'timeout';
      sock.destroy();
    });
    sock.on('drain', () => {
      if (ob.socket === sock) this.flush(ob);
    });
    sock.on('data', (chunk: Buffer) => {
      if (ob.socket === sock) this.onAcks(ob, chunk);
    });
    sock.on('error', (err) => {
      if (ob.socket !== sock) return;
      ob.lastError = err;
      // A failed handshake (bad or unknown certificate, wrong server name) is a refusal.
      if (secure && ob.state === 'connecting' && streamReason(err) === null) {
        this.log('WARN', `stream to ${ob.to}: TLS handshake failed: ${err.message}`);
        ob.closeReason = 'refused';
      }
    });
    sock.on('close', () => this.onOutboundClosed(ob, sock));
  }

  private flush(ob: Outbound): void {
    const sock = ob.socket;
    if (ob.state !== 'open' || !sock || sock.destroyed) return;
    if (ob.queue.length === 0) return;
    sock.cork();
    while (ob.queue.length > 0 && sock.writableLength < SOCKET_WRITE_HIGH_WATER_BYTES) {
      const item = ob.queue.shift()!;
      ob.inflight.push(item);
      // Write errors surface as the socket's close; unacknowledged messages fail there.
      sock.write(item.frame);
    }
    sock.uncork();
  }

  private onAcks(ob: Outbound, chunk: Buffer): void {
    const data = ob.ackCarry.length > 0 ? Buffer.concat([ob.ackCarry, chunk]) : chunk;
    const whole = data.length - (data.length % 4);
    let acked = 0;
    for (let i = 0; i < whole; i += 4) acked += data.readUInt32BE(i);
    ob.ackCarry = Buffer.from(data.subarray(whole));
    if (acked > ob.inflight.length) {
      this.log('WARN', `stream to ${ob.to}: peer acknowledged ${acked} messages but only ${ob.inflight.length} were sent; dropping the connection`);
      ob.closeReason = 'reset';
      ob.socket?.destroy();
      return;
    }
    if (acked === 0) return;
    for (const item of ob.inflight.splice(0, acked)) {
      item.settled = true;
      ob.pendingBytes -= item.frame.length;
    }
    if (ob.overflowLogged && ob.pendingBytes < this.opts.maxQueueBytes / 2) ob.overflowLogged = false;
    this.flush(ob);
  }

  private onOutboundClosed(ob: Outbound, sock: net.Socket): void {
    if (ob.dead || ob.socket !== sock) return;
    clearTimer(ob, 'connectTimer');
    ob.socket = null;
    ob.ackCarry = Buffer.alloc(0);
    const wasOpen = ob.state === 'open';
    let reason: StreamFailure;
    if (wasOpen) {
      reason = ob.closeReason ?? streamReason(ob.lastError) ?? 'reset';
      ob.state = 'idle';
    } else {
      reason = ob.closeReason ?? streamReason(ob.lastError) ?? 'refused';
      ob.failures += 1;
      const code = errnoCode(ob.lastError);
      if (code && !KNOWN_CONNECT_CODES.has(code)) {
        this.log('WARN', `connect ${this.ip} -> ${ob.to} failed: ${explainErrno(ob.lastError)}`);
      }
      ob.state = 'backoff';
      const delay = Math.min(this.opts.reconnectCapMs, this.opts.reconnectBaseMs * 2 ** (ob.failures - 1));
      ob.retryTimer = setTimeout(() => {
        ob.retryTimer = null;
        if (ob.dead || ob.state !== 'backoff') return;
        if (ob.queue.length > 0) this.connect(ob);
        else ob.state = 'idle';
      }, delay);
    }
    // State is settled before callbacks run: a handler that sends again sees a consistent peer.
    this.failAll(ob, reason);
  }

  private failAll(ob: Outbound, reason: StreamFailure): void {
    const items = ob.inflight.concat(ob.queue);
    ob.inflight = [];
    ob.queue = [];
    ob.pendingBytes = 0;
    ob.overflowLogged = false;
    for (const item of items) {
      if (item.settled) continue;
      item.settled = true;
      this.callFailure(item.onFailure, ob.to, reason, item.bytes);
    }
  }

  private failLater(to: string, reason: StreamFailure, bytes: Uint8Array, onFailure: StreamFailureHandler): void {
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) this.callFailure(onFailure, to, reason, bytes);
    });
  }

  private callFailure(onFailure: StreamFailureHandler, to: string, reason: StreamFailure, bytes: Uint8Array): void {
    try {
      onFailure(to, reason, bytes);
    } catch (err) {
      this.log('ERR', `stream failure handler for ${to} threw: ${describe(err)}`);
    }
  }

  // ---- shutdown --------------------------------------------------------------------------

  /** Close every socket; queued messages are dropped without callbacks (the host is going away). */
  closeAll(): void {
    this.generation += 1;
    for (const abort of this.bindAborts) abort();
    this.bindAborts.clear();
    for (const ob of this.outbound.values()) {
      ob.dead = true;
      clearTimer(ob, 'connectTimer');
      clearTimer(ob, 'retryTimer');
      ob.socket?.destroy();
      ob.socket = null;
    }
    this.outbound.clear();
    for (const sock of this.inbound) sock.destroy();
    this.inbound.clear();
    for (const sock of this.udp.values()) {
      this.closing.push(new Promise((resolve) => {
        try {
          sock.close(() => resolve());
        } catch {
          resolve(); // already closed (e.g. after a failed bind)
        }
      }));
    }
    this.udp.clear();
    for (const server of this.servers.values()) {
      this.closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    this.servers.clear();
  }

  /** closeAll(), then wait until every listening socket is really released. */
  async close(): Promise<void> {
    this.closeAll();
    const closing = this.closing;
    this.closing = [];
    await Promise.all(closing);
  }

  private log(level: LogLevel, text: string): void {
    try {
      this.logFn(level, text);
    } catch {
      // a broken log sink must not take the network down with it
    }
  }
}

const KNOWN_CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function streamReason(err: unknown): StreamFailure | null {
  switch (errnoCode(err)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'timeout';
    default:
      return null;
  }
}

function newOutbound(fromPort: number, to: string, host: string, port: number): Outbound {
  return {
    fromPort,
    to,
    host,
    port,
    state: 'idle',
    socket: null,
    queue: [],
    inflight: [],
    ackCarry: Buffer.alloc(0),
    pendingBytes: 0,
    failures: 0,
    lastError: null,
    closeReason: null,
    connectTimer: null,
    retryTimer: null,
    overflowLogged: false,
    dead: false,
    flushQueued: false,
  };
}

function clearTimer(ob: Outbound, which: 'connectTimer' | 'retryTimer'): void {
  const t = ob[which];
  if (t) clearTimeout(t);
  ob[which] = null;
}

function checkPort(port: number, proto: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${proto} port ${port} is not a port number (1-65535)`);
  }
}

function remoteOf(sock: net.Socket): string {
  return `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
