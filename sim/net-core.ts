// sim/net-core.ts — state shared by the virtual network's parts: addressing, links,
// reachability, socket tables per host, counters.
//
// Owns: resolving 'ip:port' strings to hosts (loopback included), picking the link for a
// direction, per-host port tables, and the counters behind SimNetwork.stats()/linkCounts().
// Must never: deliver anything itself (datagrams.ts and tcp.ts do) or touch disks/processes.
import type { Rng } from '../core/rng.ts';
import type { HostState, Kernel, Owner } from './kernel.ts';
import { DEFAULT_LINK, LOOPBACK_LINK, mergeLink, type LinkConfig } from './links.ts';
import { Reachability } from './reach.ts';

export const DATAGRAM_MAX_BYTES = 1400;
/** Host index meaning "the sender's own host" in a cached address. */
const LOOPBACK = -2;

export interface ResolvedAddr {
  /** Destination host index, or -1 when no host has that ip. */
  host: number;
  port: number;
  /** The ip as written in the address (what the receiver sees as the source when replying). */
  ip: string;
  loopback: boolean;
}

export interface DatagramSocket {
  readonly owner: Owner;
  readonly port: number;
  /** Bound to 127.0.0.1: only the host itself can reach it. */
  readonly loopbackOnly?: boolean;
  readonly onDatagram: (from: string, bytes: Uint8Array) => void;
}

/** A TCP listener: a process's stream port, or a host-level HTTP service. */
export interface TcpListener {
  readonly owner: Owner;
  readonly port: number;
  readonly kind: 'stream' | 'http';
  /** Bound to 127.0.0.1: connections from other hosts are refused. */
  readonly loopbackOnly?: boolean;
  onAccept(conn: unknown): void;
}

export interface HostSockets {
  readonly udp: Map<number, DatagramSocket>;
  readonly tcp: Map<number, TcpListener>;
  /** Cached 'ip:port' strings for this host's ports. */
  readonly addrs: Map<number, string>;
  nextEphemeral: number;
}

export interface NetStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsDropped: number;
  streamMessagesDelivered: number;
  bytes: number;
}

export class NetCore {
  readonly reach: Reachability;
  defaultLink: LinkConfig = DEFAULT_LINK;
  private readonly links = new Map<number, LinkConfig>();
  readonly sockets: HostSockets[] = [];
  private readonly hostByIp = new Map<string, number>();
  private readonly addrCache = new Map<string, { host: number; port: number; ip: string }>();
  readonly stats: NetStats = { datagramsSent: 0, datagramsDelivered: 0, datagramsDropped: 0, streamMessagesDelivered: 0, bytes: 0 };
  private readonly perLink = new Map<number, number>();
  readonly rng: Rng;

  constructor(readonly kernel: Kernel) {
    this.rng = kernel.rng.fork('net');
    this.reach = new Reachability(() => kernel.hosts.length);
  }

  get hosts(): HostState[] {
    return this.kernel.hosts;
  }

  registerHost(h: HostState): void {
    this.hostByIp.set(h.ip, h.index);
    this.sockets.push({ udp: new Map(), tcp: new Map(), addrs: new Map(), nextEphemeral: 40000 });
    this.addrCache.clear();
    this.reach.invalidate();
  }

  hostIndex(ip: string): number {
    return this.hostByIp.get(ip) ?? -1;
  }

  private readonly scratch: ResolvedAddr = { host: -1, port: 0, ip: '', loopback: false };

  /** Parse and resolve `addr` as seen from host `src`. Throws on a malformed address.
   *  The result is a shared scratch record: read it before the next resolve() call. */
  resolve(src: number, addr: string): ResolvedAddr {
    let c = this.addrCache.get(addr);
    if (c === undefined) {
      if (typeof addr !== 'string') throw new Error(`address must be a string 'ip:port', got ${JSON.stringify(addr)}`);
      const i = addr.lastIndexOf(':');
      const port = Number(addr.slice(i + 1));
      if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`address '${addr}' is not 'ip:port' with a port in 0..65535`);
      }
      const ip = addr.slice(0, i);
      const host = ip === '127.0.0.1' || ip === 'localhost' ? LOOPBACK : (this.hostByIp.get(ip) ?? -1);
      c = { host, port, ip: ip === 'localhost' ? '127.0.0.1' : ip };
      if (host !== -1) this.addrCache.set(addr, c);
    }
    const r = this.scratch;
    r.loopback = c.host === LOOPBACK || c.host === src;
    r.host = c.host === LOOPBACK ? src : c.host;
    r.port = c.port;
    r.ip = c.ip;
    return r;
  }

  /** 'ip:port' of a socket on host `host` (cached: datagram senders reuse a few ports). */
  localAddr(host: number, port: number): string {
    const cache = this.sockets[host]!.addrs;
    let s = cache.get(port);
    if (s === undefined) {
      s = `${this.kernel.hosts[host]!.ip}:${port}`;
      if (cache.size < 4096) cache.set(port, s);
    }
    return s;
  }

  link(from: number, to: number): LinkConfig {
    if (from === to) return LOOPBACK_LINK;
    return this.links.get(from * 65536 + to) ?? this.defaultLink;
  }

  setLink(from: number, to: number, cfg: Partial<LinkConfig>, where: string): void {
    const k = from * 65536 + to;
    this.links.set(k, mergeLink(this.links.get(k) ?? this.defaultLink, cfg, where));
  }

  setDefaultLink(cfg: Partial<LinkConfig>, where: string): void {
    this.defaultLink = mergeLink(this.defaultLink, cfg, where);
  }

  /** Packets leave `from` and arrive at `to` only when `to` is up and no partition cuts them. */
  passable(from: number, to: number): boolean {
    return this.kernel.hosts[to]!.up && this.reach.canReach(from, to);
  }

  countLink(from: number, to: number): void {
    const k = from * 65536 + to;
    this.perLink.set(k, (this.perLink.get(k) ?? 0) + 1);
  }

  linkCounts(): Map<string, number> {
    const out = new Map<string, number>();
    const keys = [...this.perLink.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      const from = this.kernel.hosts[Math.floor(k / 65536)]!.ip;
      const to = this.kernel.hosts[k % 65536]!.ip;
      out.set(`${from}>${to}`, this.perLink.get(k)!);
    }
    return out;
  }

  ephemeralPort(host: number): number {
    const s = this.sockets[host]!;
    const p = s.nextEphemeral;
    s.nextEphemeral = p >= 60999 ? 40000 : p + 1;
    return p;
  }
}
