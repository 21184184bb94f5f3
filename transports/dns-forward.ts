// transports/dns-forward.ts — one DNS query to an upstream server over real UDP (recursors).
//
// Owns: a throwaway udp4 socket per query, waiting for the first datagram from the server
// whose id matches the query, a deadline, and closing the socket on every path.
// Source address: the agent's own ip when it and the server are both loopback (so a test on
// 127.0.12.x stays on its addresses), else whatever the kernel routes from (as Consul does).
// Must never: call back twice, call back from inside the call (always later, from the event
// loop), or throw on a bad address — those become a null answer.
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';

export function forwardDnsUdp(
  server: string,
  query: Uint8Array,
  timeoutMs: number,
  done: (reply: Uint8Array | null) => void,
  localIp?: string,
): void {
  const colon = server.lastIndexOf(':');
  const ip = colon > 0 ? server.slice(0, colon) : server;
  const port = colon > 0 ? Number(server.slice(colon + 1)) : 53;
  if (!isIPv4(ip) || !Number.isInteger(port) || port < 1 || port > 65535 || query.length < 2) {
    setImmediate(() => done(null));
    return;
  }
  const sock = dgram.createSocket('udp4');
  let finished = false;
  const finish = (reply: Uint8Array | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    try {
      sock.close();
    } catch {
      // already closed
    }
    done(reply);
  };
  const timer = setTimeout(() => finish(null), timeoutMs);
  sock.on('error', () => finish(null));
  sock.on('message', (msg, rinfo) => {
    if (rinfo.address !== ip || rinfo.port !== port) return;
    if (msg.length < 12 || msg[0] !== query[0] || msg[1] !== query[1]) return;
    finish(new Uint8Array(msg));
  });
  const send = (): void =>
    sock.send(query, port, ip, (err) => {
      if (err) finish(null);
    });
  if (localIp && localIp.startsWith('127.') && ip.startsWith('127.')) sock.bind({ address: localIp, port: 0 }, send);
  else send();
}
