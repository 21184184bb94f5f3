// sim/dns-client.ts — `dig` in the simulator: one DNS query over a virtual datagram or stream.
//
// Owns: sending query bytes from a host to a server address and handing back the first
// answer, or null on timeout / refusal.
// Must never: decode DNS (callers use dns-packet), or call back twice.
import type { NetCore } from './net-core.ts';
import { bindDatagram, sendDatagram, unbindDatagram } from './datagrams.ts';
import { connect, type Conn, type ConnOwner } from './tcp.ts';

export function dnsQuery(
  net: NetCore,
  src: number,
  server: string,
  query: Uint8Array,
  transport: 'udp' | 'tcp',
  timeoutMs: number,
  done: (answer: Uint8Array | null) => void,
): void {
  const k = net.kernel;
  const owner: ConnOwner = { pid: 0, alive: true, conns: new Set<Conn>() };
  let finished = false;
  let cleanup = (): void => {};
  const finish = (answer: Uint8Array | null): void => {
    if (finished) return;
    finished = true;
    k.cancel(timer);
    cleanup();
    done(answer);
  };
  const timer = k.scheduleCallback(k.nowMs + timeoutMs, `dns-timeout ${server}`, () => finish(null), src);
  if (transport === 'udp') {
    let port = net.ephemeralPort(src);
    for (let i = 0; net.sockets[src]!.udp.has(port) && i < 20000; i++) port = net.ephemeralPort(src);
    bindDatagram(net, owner, src, port, (_from, bytes) => finish(bytes));
    cleanup = () => unbindDatagram(net, owner, src, port);
    sendDatagram(net, src, port, server, query);
  } else {
    const c = connect(net, owner, src, 0, server);
    c.onOpen = () => c.send(query);
    c.onData = (bytes) => finish(bytes);
    c.onClose = () => finish(null);
    cleanup = () => {
      if (c.state !== 'closed') c.close();
    };
  }
}
