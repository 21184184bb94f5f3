// sim/datagrams.ts — UDP-like datagrams over the virtual network.
//
// Owns: binding datagram ports, sending (size limit, partition check, loss, duplication,
// reorder delay, latency) and delivery to the bound socket.
// Must never: guarantee anything: datagrams to unbound ports, down hosts or across a
// partition (at send or at arrival) vanish silently, as on a real network.
import type { EventType, Owner, SimEvent } from './kernel.ts';
import { drawLatency, drawReorderDelay } from './links.ts';
import { DATAGRAM_MAX_BYTES, type NetCore } from './net-core.ts';

interface InFlight {
  net: NetCore;
  src: number;
  dst: number;
  port: number;
  /** Source address as the receiver sees it. */
  from: string;
  to: string;
  bytes: Uint8Array;
}

const DGRAM: EventType = {
  name: 'dgram',
  code: 2,
  run(ev: SimEvent) {
    const d = ev.a as InFlight;
    const net = d.net;
    if (!net.passable(d.src, d.dst)) return drop(net, d, 'cut in flight');
    const sock = net.sockets[d.dst]!.udp.get(d.port);
    if (sock === undefined || !sock.owner.alive || (sock.loopbackOnly && d.src !== d.dst)) return drop(net, d, 'port not bound');
    net.stats.datagramsDelivered++;
    net.countLink(d.src, d.dst);
    sock.onDatagram(d.from, d.bytes);
  },
  describe(ev: SimEvent) {
    const d = ev.a as InFlight;
    return `dgram ${d.from}>${d.to} ${d.bytes.length}B`;
  },
};

function drop(net: NetCore, d: { from: string; to: string }, why: string): void {
  net.stats.datagramsDropped++;
  if (net.kernel.tracing) net.kernel.note(`dgram-drop ${d.from}>${d.to} ${why}`);
}

export function bindDatagram(
  net: NetCore,
  owner: Owner,
  host: number,
  port: number,
  onDatagram: (from: string, bytes: Uint8Array) => void,
  loopbackOnly = false,
): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bindDatagram: port must be an integer 1..65535, got ${port}`);
  if (typeof onDatagram !== 'function') throw new Error(`bindDatagram(${port}): handler is not a function`);
  const table = net.sockets[host]!.udp;
  const cur = table.get(port);
  if (cur !== undefined && cur.owner.alive) {
    throw new Error(`bindDatagram: udp port ${port} on ${net.hosts[host]!.ip} is already in use by pid ${cur.owner.pid}`);
  }
  table.set(port, { owner, port, onDatagram, loopbackOnly });
}

export function unbindDatagram(net: NetCore, owner: Owner, host: number, port: number): void {
  const table = net.sockets[host]!.udp;
  if (table.get(port)?.owner === owner) table.delete(port);
}

export function sendDatagram(net: NetCore, src: number, fromPort: number, to: string, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new Error(`sendDatagram to ${to}: payload must be a Uint8Array`);
  if (bytes.length > DATAGRAM_MAX_BYTES) {
    throw new Error(`sendDatagram to ${to}: payload is ${bytes.length} bytes, over the ${DATAGRAM_MAX_BYTES}-byte datagram limit; use a stream`);
  }
  const r = net.resolve(src, to);
  const from = r.loopback && r.ip === '127.0.0.1' ? `127.0.0.1:${fromPort}` : net.localAddr(src, fromPort);
  const d: InFlight = { net, src, dst: r.host, port: r.port, from, to, bytes };
  net.stats.datagramsSent++;
  net.stats.bytes += bytes.length;
  if (r.host < 0) return drop(net, d, 'no such host');
  if (!net.reach.canReach(src, r.host)) return drop(net, d, 'partitioned');
  const link = net.link(src, r.host);
  const rng = net.rng;
  if (link.loss > 0 && rng.chance(link.loss)) return drop(net, d, 'lost');
  // Copy: the sender may reuse its buffer, a real socket would have copied too.
  d.bytes = bytes.slice();
  const copies = link.duplicate > 0 && rng.chance(link.duplicate) ? 2 : 1;
  const kernel = net.kernel;
  for (let i = 0; i < copies; i++) {
    let delay = drawLatency(link, rng);
    if (link.reorder > 0 && rng.chance(link.reorder)) delay += drawReorderDelay(link, rng);
    kernel.at(kernel.nowMs + delay, DGRAM, r.host, r.port, d, null);
  }
  if (copies === 2) net.stats.datagramsSent++;
}
