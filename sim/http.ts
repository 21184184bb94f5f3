// sim/http.ts — a tiny virtual HTTP over sim/tcp.ts: services on virtual hosts, and a client.
//
// Owns: serving a handler on a port (one request per connection), making a request to a
// URL over the virtual network with a timeout, and mapping failures to Go-style messages.
// Must never: parse real HTTP (requests travel as small JSON records with base64 bodies),
// or call back after the requesting owner died.
import type { EventType } from './kernel.ts';
import type { NetCore } from './net-core.ts';
import { connect, listen, unlisten, type Conn, type ConnOwner } from './tcp.ts';

export interface SimHttpResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface SimHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string[]>;
  body: string;
  /** Client address 'ip:port'. */
  from: string;
  /** Reply later (return undefined from the handler): blocking-query style. Once only. */
  respond(res: SimHttpResponse): void;
}

/** Return the response now, or undefined and call req.respond later. */
export type SimHttpHandler = (method: string, path: string, req: SimHttpRequest) => SimHttpResponse | void;

export type HttpOutcome =
  | { ok: true; status: number; body: string; bodyBytes: Uint8Array; headers: Record<string, string> }
  | { ok: false; reason: 'refused' | 'timeout' | 'reset' | 'nohost'; detail: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What travels inside the virtual connection (the simulator does not parse real HTTP). */
interface WireRequest {
  method: string;
  /** Path plus query string, as on a request line. */
  target: string;
  headers: Record<string, string[]>;
  /** base64 */
  body: string;
}
interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const toBytes = (b: string | Uint8Array | undefined): Uint8Array => (b === undefined ? new Uint8Array(0) : typeof b === 'string' ? enc.encode(b) : b);

/** A parsed request as a server sees it, and how to answer it (at most once). */
export interface WireServerRequest {
  method: string;
  target: string;
  headers: Record<string, string[]>;
  body: Uint8Array;
  from: string;
  respond(status: number, headers: Record<string, string>, body: string | Uint8Array): void;
}

/** Listen for virtual HTTP on `port`; each connection carries one request and one response. */
export function serveWire(net: NetCore, owner: ConnOwner, host: number, port: number, loopbackOnly: boolean, onRequest: (r: WireServerRequest) => void): void {
  listen(
    net,
    {
      owner,
      port,
      kind: 'http',
      loopbackOnly,
      onAccept(c: unknown) {
        const conn = c as Conn;
        conn.onData = (bytes) => {
          const r = JSON.parse(dec.decode(bytes)) as WireRequest;
          let responded = false;
          onRequest({
            method: r.method,
            target: r.target,
            headers: r.headers,
            body: unb64(r.body),
            from: conn.remoteAddr,
            respond(status, headers, body) {
              if (responded) return;
              responded = true;
              if (conn.state !== 'open') return;
              const res: WireResponse = { status, headers, body: b64(toBytes(body)) };
              conn.send(enc.encode(JSON.stringify(res)));
              conn.close();
            },
          });
        };
      },
    },
    host,
  );
}

export function serveHttp(net: NetCore, owner: ConnOwner, host: number, port: number, handler: SimHttpHandler): void {
  if (typeof handler !== 'function') throw new Error(`serveHttp(${port}): handler is not a function`);
  serveWire(net, owner, host, port, false, (w) => {
    const respond = (res: SimHttpResponse): void => w.respond(res.status, res.headers ?? {}, res.body ?? '');
    let res: SimHttpResponse | void;
    try {
      res = handler(w.method, w.target, { method: w.method, path: w.target, headers: w.headers, body: dec.decode(w.body), from: w.from, respond });
    } catch (e) {
      res = { status: 500, body: `handler error: ${(e as Error).message}` };
    }
    if (res) respond(res);
  });
}

export function stopHttp(net: NetCore, owner: ConnOwner, host: number, port: number): void {
  unlisten(net, owner, host, port);
}

const LATER: EventType = {
  name: 'http-later',
  code: 7,
  run(ev) {
    (ev.a as () => void)();
  },
  describe(ev) {
    return ev.b as string;
  },
};

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string[]>;
  body?: string | Uint8Array;
  timeoutMs: number;
}

/** Parse an http:// URL into the pieces the virtual client needs; clear error when malformed. */
export function parseHttpUrl(url: string): { hostname: string; ip: string; port: number; path: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a URL; expected http://host:port/path`);
  }
  if (u.protocol !== 'http:') throw new Error(`'${url}': only http:// URLs are simulated`);
  const hostname = u.hostname;
  const ip = hostname === 'localhost' ? '127.0.0.1' : hostname;
  const port = u.port === '' ? 80 : Number(u.port);
  return { hostname, ip, port, path: `${u.pathname}${u.search}` };
}

/** Request `url` from host `src` on behalf of `owner`; `done` runs once, from the event loop. */
export function httpRequest(net: NetCore, owner: ConnOwner, src: number, url: string, opts: HttpRequestOptions, done: (r: HttpOutcome) => void): void {
  const k = net.kernel;
  const { hostname, ip, port, path } = parseHttpUrl(url);
  let finished = false;
  let timer = -1;
  let conn: Conn | null = null;
  const finish = (r: HttpOutcome): void => {
    if (finished) return;
    finished = true;
    if (timer >= 0) k.cancel(timer);
    if (conn && conn.state !== 'closed') conn.close();
    if (owner.alive) done(r);
  };
  const resolved = net.resolve(src, `${ip}:${port}`);
  if (resolved.host < 0) {
    k.at(k.nowMs, LATER, src, 0, () => finish({ ok: false, reason: 'nohost', detail: `lookup ${hostname}: no such host` }), `http-nohost ${url}`);
    return;
  }
  const c = connect(net, owner, src, 0, `${ip}:${port}`);
  conn = c;
  timer = k.scheduleCallback(k.nowMs + opts.timeoutMs, `http-timeout ${url}`, () => {
    timer = -1;
    finish({ ok: false, reason: 'timeout', detail: 'timeout' });
  }, src);
  const req: WireRequest = { method: opts.method ?? 'GET', target: path, headers: opts.headers ?? {}, body: b64(toBytes(opts.body)) };
  c.onOpen = () => c.send(enc.encode(JSON.stringify(req)));
  c.onData = (bytes) => {
    const r = JSON.parse(dec.decode(bytes)) as WireResponse;
    const body = unb64(r.body);
    finish({ ok: true, status: r.status, body: dec.decode(body), bodyBytes: body, headers: r.headers });
  };
  c.onClose = (reason) => {
    if (reason === 'refused') finish({ ok: false, reason: 'refused', detail: `dial tcp ${ip}:${port}: connect: connection refused` });
    else if (reason === 'timeout') finish({ ok: false, reason: 'timeout', detail: `dial tcp ${ip}:${port}: i/o timeout` });
    else finish({ ok: false, reason: 'reset', detail: `read tcp ${c.localAddr}->${ip}:${port}: read: connection reset by peer` });
  };
}
