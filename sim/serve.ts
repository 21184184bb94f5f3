// sim/serve.ts — the ServePort in the simulator: an agent's HTTP API and DNS server on the
// virtual network.
//
// Owns: turning virtual HTTP requests into core HttpRequest records (path, decoded query
// pairs, lower-cased headers, body bytes, remote address) and DNS queries arriving by
// datagram or stream into onQuery calls, and sending the answers back.
// Must never: interpret HTTP API or DNS content.
//
// Binding to 127.0.0.x makes the server reachable only from its own host, as in Consul's
// default client_addr; the host's own ip or 0.0.0.0 makes it reachable from everywhere.
// DNS over the virtual stream carries one message per chunk (no 2-byte length prefix).
// dnsForward (recursors) is a virtual `dig` from the agent's host; its answer is dropped if
// the agent's process died while waiting.
import type { HttpRequest, HttpResponse } from '../core/http/types.ts';
import type { ServePort } from '../core/runtime/ports.ts';
import type { NetCore } from './net-core.ts';
import { bindDatagram, sendDatagram } from './datagrams.ts';
import { serveWire } from './http.ts';
import { listen, type Conn, type ConnOwner } from './tcp.ts';
import { dnsQuery } from './dns-client.ts';

function decodeComponent(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Split a request target into the core's path + ordered decoded query pairs. */
export function splitTarget(target: string): { path: string; query: Array<[string, string]> } {
  const q = target.indexOf('?');
  if (q < 0) return { path: target, query: [] };
  const query: Array<[string, string]> = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    query.push(eq < 0 ? [decodeComponent(part), ''] : [decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))]);
  }
  return { path: target.slice(0, q), query };
}

export function makeServePort(
  net: NetCore,
  owner: ConnOwner,
  host: number,
  track: { udp(port: number): void; tcp(port: number): void },
): ServePort {
  const hostIp = net.hosts[host]!.ip;
  const scope = (ip: string, what: string, port: number): boolean => {
    if (typeof ip === 'string' && ip.startsWith('127.')) return true;
    if (ip === hostIp || ip === '0.0.0.0') return false;
    throw new Error(`${what}: cannot bind ${ip}:${port} on host ${hostIp}; use 127.0.0.1, ${hostIp} or 0.0.0.0`);
  };
  return {
    http(ip, port, onRequest) {
      const loopbackOnly = scope(ip, 'serve.http', port);
      serveWire(net, owner, host, port, loopbackOnly, (w) => {
        const { path, query } = splitTarget(w.target);
        const headers: Record<string, string> = {};
        for (const k of Object.keys(w.headers).sort()) headers[k.toLowerCase()] = w.headers[k]!.join(', ');
        const req: HttpRequest = { method: w.method.toUpperCase(), path, query, headers, body: w.body, remoteAddr: w.from };
        onRequest(req, (res: HttpResponse) => w.respond(res.status, res.headers, res.body));
      });
      track.tcp(port);
    },
    dns(ip, port, onQuery) {
      const loopbackOnly = scope(ip, 'serve.dns', port);
      bindDatagram(
        net,
        owner,
        host,
        port,
        (from, bytes) => {
          onQuery(bytes, 'udp', (answer) => {
            if (answer !== null && owner.alive) sendDatagram(net, host, port, from, answer);
          });
        },
        loopbackOnly,
      );
      track.udp(port);
      listen(
        net,
        {
          owner,
          port,
          kind: 'stream',
          loopbackOnly,
          onAccept(c: unknown) {
            const conn = c as Conn;
            conn.onData = (bytes) => {
              onQuery(bytes, 'tcp', (answer) => {
                if (conn.state !== 'open') return;
                if (answer === null) conn.close();
                else conn.send(answer);
              });
            };
          },
        },
        host,
      );
      track.tcp(port);
    },
    dnsForward(server, bytes, timeoutMs, done) {
      if (!owner.alive) return;
      dnsQuery(net, host, server, bytes, 'udp', timeoutMs, (reply) => {
        if (owner.alive) done(reply);
      });
    },
  };
}
