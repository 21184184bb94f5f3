// sim/tcp.ts — TCP-like connections over the virtual network.
//
// Owns: connect/accept, ordered lossless delivery of chunks (each send() arrives as one
// onData), graceful close (FIN), reset (RST) when a process dies or data reaches a
// connection that no longer exists, `refused` when nothing listens, and `timeout` when a
// SYN or a segment cannot get through for CONNECT_TIMEOUT_MS / SEGMENT_TIMEOUT_MS
// (partition, or the peer host is down), retrying every RETRY_MS meanwhile.
// Must never: lose, duplicate or reorder data on a live connection; call a dead owner back.
//
// Model notes: link latency applies per segment, but a segment never overtakes the one
// before it. A process's death queues an RST behind the data already sent; a host crash
// destroys its connections silently (the peer learns by timeout, or by RST once the host
// is back up). Reachability must hold in both directions for a handshake to complete.
import type { EventType, Owner, SimEvent } from './kernel.ts';
import { drawLatency } from './links.ts';
import type { NetCore, TcpListener } from './net-core.ts';

export const CONNECT_TIMEOUT_MS = 10_000;
export const SEGMENT_TIMEOUT_MS = 10_000;
export const RETRY_MS = 1_000;

export type CloseReason = 'closed' | 'reset' | 'timeout' | 'refused';

/** Connections a process owns, so they can be reset when it dies. */
export interface ConnSet {
  add(c: Conn): void;
  delete(c: Conn): void;
}
export interface ConnOwner extends Owner {
  readonly conns: ConnSet;
}

const DATA = 0;
const FIN = 1;
const RST = 2;

interface Segment {
  kind: number;
  bytes: Uint8Array | null;
  sentAt: number;
  arriveAt: number;
}

export class Conn {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  onOpen: (() => void) | null = null;
  onData: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((reason: CloseReason) => void) | null = null;
  /** Called when one of our DATA chunks reaches the peer application (sim-only knowledge). */
  onDelivered: (() => void) | null = null;
  peer: Conn | null = null;
  private established = false;
  /** No more segments will leave; callbacks are done. */
  dead = false;
  private rstPending = false;
  private q: (Segment | undefined)[] = [];
  private qHead = 0;
  private lastArrive = 0;
  private pumpEv: SimEvent | null = null;
  connectDeadline = 0;

  constructor(
    readonly net: NetCore,
    readonly id: number,
    readonly owner: ConnOwner,
    readonly host: number,
    readonly peerHost: number,
    readonly localAddr: string,
    readonly remoteAddr: string,
  ) {
    owner.conns.add(this);
  }

  /** Queue one chunk; it arrives whole and in order, or the connection fails. */
  send(bytes: Uint8Array): void {
    if (this.state === 'closed') throw new Error(`send on closed connection ${this.localAddr}->${this.remoteAddr}`);
    if (!(bytes instanceof Uint8Array)) throw new Error(`send to ${this.remoteAddr}: payload must be a Uint8Array`);
    this.net.stats.bytes += bytes.length;
    this.push(DATA, bytes.slice());
  }

  /** Graceful close: queued data is still delivered, then the peer sees 'closed'. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.conns.delete(this);
    this.push(FIN, null);
  }

  /** The owning process died: an RST follows the data already sent. */
  reset(): void {
    if (this.dead) return;
    this.state = 'closed';
    this.owner.conns.delete(this);
    this.push(RST, null);
  }

  /** The host crashed: nothing more leaves, nobody is told. */
  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.state = 'closed';
    this.owner.conns.delete(this);
    this.clearQueue();
  }

  /** The connection failed under us; tell the owner (if it was still using it). */
  fail(reason: CloseReason): void {
    if (this.dead) return;
    this.dead = true;
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    this.owner.conns.delete(this);
    this.clearQueue();
    if (this.net.kernel.tracing) this.net.kernel.note(`tcp-fail ${this.localAddr}>${this.remoteAddr} ${reason}`);
    if (wasOpen && this.owner.alive && this.onClose) this.onClose(reason);
  }

  private clearQueue(): void {
    this.q = [];
    this.qHead = 0;
    if (this.pumpEv) {
      this.pumpEv.cancelled = true;
      this.pumpEv = null;
    }
  }

  private push(kind: number, bytes: Uint8Array | null): void {
    if (this.dead) return;
    const now = this.net.kernel.nowMs;
    let arriveAt = now + drawLatency(this.net.link(this.host, this.peerHost), this.net.rng);
    if (arriveAt < this.lastArrive) arriveAt = this.lastArrive;
    this.lastArrive = arriveAt;
    this.q.push({ kind, bytes, sentAt: now, arriveAt });
    this.pump();
  }

  /** Nothing we send may arrive before `tMs` (the server's data follows its SYN-ACK). */
  notBefore(tMs: number): void {
    if (tMs > this.lastArrive) this.lastArrive = tMs;
  }

  /** Handshake finished (or the peer exists): let queued segments flow. */
  establish(): void {
    this.established = true;
    this.pump();
  }

  private pump(): void {
    if (!this.established || this.dead || this.rstPending || this.pumpEv !== null || this.qHead >= this.q.length) return;
    const seg = this.q[this.qHead]!;
    const k = this.net.kernel;
    this.pumpEv = k.at(seg.arriveAt, SEGMENT, this.peerHost, seg.bytes ? seg.bytes.length : -seg.kind, this, null);
  }

  /** Arrival of the head segment at the peer's host. */
  arrive(): void {
    this.pumpEv = null;
    if (this.dead) return;
    const seg = this.q[this.qHead];
    if (seg === undefined) return;
    const net = this.net;
    const k = net.kernel;
    const peer = this.peer!;
    const peerGone = peer.state === 'closed' || !peer.owner.alive;
    const pathOk = net.passable(this.host, this.peerHost) && (!peerGone || net.passable(this.peerHost, this.host));
    if (!pathOk) {
      if (seg.kind === RST) {
        this.advance();
        return this.pump();
      }
      const deadline = seg.sentAt + SEGMENT_TIMEOUT_MS;
      if (k.nowMs >= deadline) return this.fail('timeout');
      this.pumpEv = k.at(Math.min(k.nowMs + RETRY_MS, deadline), SEGMENT, this.peerHost, -9, this, null);
      return;
    }
    this.advance();
    if (peerGone && seg.kind === FIN && !peer.dead && peer.owner.alive) {
      // Both sides closed: the normal end of a connection.
      return this.pump();
    }
    if (peerGone) {
      // Data for a connection that no longer exists: the peer's stack answers RST.
      if (seg.kind === DATA || seg.kind === FIN) {
        this.rstPending = true;
        k.at(k.nowMs + drawLatency(net.link(this.peerHost, this.host), net.rng), RST_BACK, this.host, 0, this, null);
      }
      return;
    }
    if (seg.kind === DATA) {
      net.stats.streamMessagesDelivered++;
      net.countLink(this.host, this.peerHost);
      if (this.onDelivered) this.onDelivered();
      if (peer.onData) peer.onData(seg.bytes!);
    } else if (seg.kind === FIN) {
      peer.state = 'closed';
      peer.owner.conns.delete(peer);
      peer.dead = true;
      peer.clearQueue();
      if (peer.owner.alive && peer.onClose) peer.onClose('closed');
    } else {
      peer.fail('reset');
    }
    this.pump();
  }

  private advance(): void {
    this.q[this.qHead++] = undefined;
    if (this.qHead > 32 && this.qHead * 2 > this.q.length) {
      this.q = this.q.slice(this.qHead);
      this.qHead = 0;
    }
  }
}

const SEGMENT: EventType = {
  name: 'seg',
  code: 3,
  run(ev) {
    (ev.a as Conn).arrive();
  },
  describe(ev) {
    const c = ev.a as Conn;
    const d = ev.detail;
    const what = d >= 0 ? `${d}B` : d === -FIN ? 'FIN' : d === -RST ? 'RST' : 'retry';
    return `seg ${c.localAddr}>${c.remoteAddr} ${what}`;
  },
};

const RST_BACK: EventType = {
  name: 'rst',
  code: 4,
  run(ev) {
    (ev.a as Conn).fail('reset');
  },
  describe(ev) {
    const c = ev.a as Conn;
    return `rst ${c.remoteAddr}>${c.localAddr}`;
  },
};

interface Handshake {
  net: NetCore;
  client: Conn;
  port: number;
  server: Conn | null;
}

const SYN: EventType = {
  name: 'syn',
  code: 5,
  run(ev) {
    const h = ev.a as Handshake;
    const { net, client } = h;
    const k = net.kernel;
    // Destroyed or timed out: give up. (Closed-but-alive clients still connect so their
    // queued data and FIN get through, as a real stack would.)
    if (client.dead) return;
    const src = client.host;
    const dst = client.peerHost;
    if (dst < 0 || !net.passable(src, dst) || !net.passable(dst, src)) {
      if (k.nowMs >= client.connectDeadline) return client.fail('timeout');
      k.at(Math.min(k.nowMs + RETRY_MS, client.connectDeadline), SYN, dst < 0 ? -1 : dst, h.port, h, null);
      return;
    }
    const listener = net.sockets[dst]!.tcp.get(h.port);
    const back = k.nowMs + drawLatency(net.link(dst, src), net.rng);
    if (listener === undefined || !listener.owner.alive || (listener.loopbackOnly && src !== dst)) {
      k.at(back, SYN_ACK, src, 0, h, null);
      return;
    }
    const owner = listener.owner as ConnOwner;
    const server = new Conn(net, nextConnId(net), owner, dst, src, `${net.hosts[dst]!.ip}:${h.port}`, client.localAddr);
    server.state = 'open';
    server.peer = client;
    client.peer = server;
    h.server = server;
    // SYN-ACK is queued before the application sees the connection, so anything the
    // server sends from onAccept lands after the client learns it is open.
    k.at(back, SYN_ACK, src, 1, h, null);
    server.notBefore(back);
    server.establish();
    listener.onAccept(server);
  },
  describe(ev) {
    const h = ev.a as Handshake;
    return `syn ${h.client.localAddr}>${h.client.remoteAddr}`;
  },
};

const SYN_ACK: EventType = {
  name: 'synack',
  code: 6,
  run(ev) {
    const h = ev.a as Handshake;
    const c = h.client;
    if (c.dead) return;
    if (h.server === null) return c.fail('refused');
    if (c.state === 'connecting') {
      c.state = 'open';
      c.establish();
      if (c.onOpen) c.onOpen();
    } else {
      // Closed (FIN/RST queued) or destroyed while connecting: queued segments still flow.
      c.establish();
    }
  },
  describe(ev) {
    const h = ev.a as Handshake;
    return `synack ${h.client.remoteAddr}>${h.client.localAddr} ${h.server ? 'ok' : 'refused'}`;
  },
};

const connIds = new WeakMap<NetCore, number>();
function nextConnId(net: NetCore): number {
  const id = (connIds.get(net) ?? 0) + 1;
  connIds.set(net, id);
  return id;
}

/** Open a connection from `owner` on host `src` to `to` ('ip:port'). localPort 0 = ephemeral. */
export function connect(net: NetCore, owner: ConnOwner, src: number, localPort: number, to: string): Conn {
  const r = net.resolve(src, to);
  const port = localPort > 0 ? localPort : net.ephemeralPort(src);
  const srcIp = r.loopback && r.ip === '127.0.0.1' ? '127.0.0.1' : net.hosts[src]!.ip;
  const c = new Conn(net, nextConnId(net), owner, src, r.host, `${srcIp}:${port}`, `${r.ip}:${r.port}`);
  const k = net.kernel;
  c.connectDeadline = k.nowMs + CONNECT_TIMEOUT_MS;
  const h: Handshake = { net, client: c, port: r.port, server: null };
  const delay = r.host >= 0 ? drawLatency(net.link(src, r.host), net.rng) : 0;
  k.at(k.nowMs + delay, SYN, r.host, r.port, h, null);
  return c;
}

export function listen(net: NetCore, listener: TcpListener, host: number): void {
  const { port } = listener;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`listen: port must be an integer 1..65535, got ${port}`);
  const table = net.sockets[host]!.tcp;
  const cur = table.get(port);
  if (cur !== undefined && cur.owner.alive) {
    throw new Error(`listen: tcp port ${port} on ${net.hosts[host]!.ip} is already in use (${cur.kind}, pid ${cur.owner.pid})`);
  }
  table.set(port, listener);
}

export function unlisten(net: NetCore, owner: Owner, host: number, port: number): void {
  const table = net.sockets[host]!.tcp;
  if (table.get(port)?.owner === owner) table.delete(port);
}
