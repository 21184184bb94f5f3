// transports/dns-server.ts — the DNS interface on real sockets: UDP and TCP on one ip:port.
//
// Owns: binding udp4 + tcp on the same address, RFC 1035 §4.2.2 framing on TCP (2-byte
// length, several queries per connection), handing each query's bytes to a supplied answer
// function, sending what it returns, idle/size bounds on TCP connections, close().
// Must never: interpret DNS (core/dns does), crash on bad input or a failing answer
// function, or keep a TCP connection open forever.
import dgram from 'node:dgram';
import net from 'node:net';
import { explainErrno } from './errors.ts';

export type DnsTransport = 'udp' | 'tcp';
/** Answer now, or later through a Promise (a client agent forwards queries to a server). */
export type DnsAnswerFn = (bytes: Uint8Array, transport: DnsTransport) => Uint8Array | null | Promise<Uint8Array | null>;

export interface DnsServerOptions {
  ip: string;
  /** 0 picks a free port (both protocols get the same one). */
  port: number;
  answer: DnsAnswerFn;
  /** Where trouble is reported (answer function errors, socket errors). */
  onError?: (text: string) => void;
  /** Close a TCP connection idle this long (default 10 s). */
  tcpIdleTimeoutMs?: number;
  /** Refuse TCP connections beyond this many (default 256). */
  maxTcpConnections?: number;
}

export interface DnsServer {
  readonly ip: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_TCP_IDLE_MS = 10_000;
const DEFAULT_MAX_TCP_CONNECTIONS = 256;
const MAX_TCP_BUFFERED_BYTES = 2 + 65535;

function bindUdp(ip: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const onError = (err: Error): void => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ address: ip, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function listenTcp(ip: string, port: number, onConnection: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    const onError = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', onError);
    server.listen({ host: ip, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

function bindError(proto: string, ip: string, port: number, err: unknown): Error {
  return new Error(
    `DNS server could not listen on ${proto} ${ip}:${port}: ${explainErrno(err)}. ` +
      `Choose another address or port (Consul's -dns-port / ports.dns; default 8600).`,
  );
}

/** Binds UDP and TCP on ip:port and serves until close(). Rejects with a clear Error on bind failure. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const report = (text: string): void => {
    try {
      opts.onError?.(text);
    } catch {
      // the reporter itself must not take the server down
    }
  };
  const answer = (bytes: Uint8Array, transport: DnsTransport, done: (reply: Uint8Array | null) => void): void => {
    const fail = (e: unknown): void => {
      report(`dns answer function threw on a ${transport} query: ${e instanceof Error ? e.message : String(e)}`);
      done(null);
    };
    try {
      const r = opts.answer(bytes, transport);
      if (r instanceof Promise) r.then(done, fail);
      else done(r);
    } catch (e) {
      fail(e);
    }
  };
  const idleMs = opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_MS;
  const maxConns = opts.maxTcpConnections ?? DEFAULT_MAX_TCP_CONNECTIONS;
  const conns = new Set<net.Socket>();

  const onConnection = (sock: net.Socket): void => {
    if (conns.size >= maxConns) {
      sock.destroy();
      return;
    }
    conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => sock.destroy());
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (pending.length > MAX_TCP_BUFFERED_BYTES * 4) {
        sock.destroy();
        return;
      }
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const query = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        answer(query, 'tcp', (reply) => {
          if (reply && reply.length <= 0xffff && !sock.destroyed) {
            const framed = Buffer.allocUnsafe(2 + reply.length);
            framed.writeUInt16BE(reply.length, 0);
            framed.set(reply, 2);
            sock.write(framed);
          }
        });
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
  };

  let udp: dgram.Socket | null = null;
  let tcp: net.Server | null = null;
  let port = opts.port;
  // With port 0 the kernel picks the UDP port, which may be taken on TCP; try a few.
  for (let attempt = 0; ; attempt++) {
    try {
      udp = await bindUdp(opts.ip, opts.port);
    } catch (e) {
      throw bindError('udp', opts.ip, opts.port, e);
    }
    port = udp.address().port;
    try {
      tcp = await listenTcp(opts.ip, port, onConnection);
      break;
    } catch (e) {
      udp.close();
      udp = null;
      if (opts.port !== 0 || attempt >= 5) throw bindError('tcp', opts.ip, port, e);
    }
  }
  const udpSock = udp;
  const tcpServer = tcp;

  udpSock.on('message', (msg, rinfo) => {
    answer(msg, 'udp', (reply) => {
      if (!reply) return;
      udpSock.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) report(`dns udp reply to ${rinfo.address}:${rinfo.port} failed: ${explainErrno(err)}`);
      });
    });
  });
  udpSock.on('error', (err) => report(`dns udp socket error: ${explainErrno(err)}`));
  tcpServer.on('error', (err) => report(`dns tcp listener error: ${explainErrno(err)}`));

  let closed: Promise<void> | null = null;
  return {
    ip: opts.ip,
    port,
    close(): Promise<void> {
      if (closed) return closed;
      for (const c of conns) c.destroy();
      closed = Promise.all([
        new Promise<void>((resolve) => udpSock.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
      ]).then(() => undefined);
      return closed;
    },
  };
}
