// transports/http-server.ts — the real-mode HTTP listener: express 5 as a thin adapter
// around the core HTTP handler.
//
// Owns: binding ip:port, turning a Node request into an HttpRequest (raw body of any
// content type, raw query pairs, lower-case headers) and writing the HttpResponse back.
// Must never: route, parse JSON, or know any endpoint; that is core/http/handler.ts.
//
// Blocking queries are just slow promises from `handle`; the socket stays open meanwhile.
// close() drops idle keep-alive and in-flight connections so a stopping agent never hangs.
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders, Server } from 'node:http';
import https from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { HttpRequest, HttpResponse } from '../core/http/types.ts';
import { errnoCode, explainErrno } from './errors.ts';

/** Bodies beyond this are refused before buffering (KV's own limit is 512 KB, checked in core). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

export interface HttpServerOptions {
  ip: string;
  port: number;
  /** Answer a request: call `respond` (once), or return a promise of the response. The
   *  callback form is the hot path (no promise and no microtask hop per request). */
  handle: (req: HttpRequest, respond: (res: HttpResponse) => void) => Promise<HttpResponse> | void;
  /** Serve HTTPS with these options (transports/tls.ts serverOptions) instead of HTTP. */
  tls?: TlsOptions;
}

export interface RunningHttpServer {
  close(): Promise<void>;
  /** "ip:port" actually bound (port resolved when 0 was asked for). */
  address: string;
}

/** Split "a=1&recurse&b=%2F" into decoded pairs, keeping order and bare flags. */
export function parseQueryPairs(search: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!search) return out;
  for (const [k, v] of new URLSearchParams(search)) out.push([k, v]);
  return out;
}

/** Node's header object as the core's (lower-case names, one string each). Only set-cookie
 *  arrives as a list, so the object is used as it is unless one is there. */
function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  if (h['set-cookie'] === undefined) return h as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res) => {
    const send = (r: HttpResponse): void => {
      if (res.writableEnded || res.destroyed) return;
      // writeHead fixes the headers at once, so the length must be set here (else: chunked).
      // Strings stay strings: Node then puts head and body in one buffer instead of two.
      if (typeof r.body === 'string') {
        res.writeHead(r.status, { ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) });
        res.end(r.body);
      } else {
        res.writeHead(r.status, { ...r.headers, 'Content-Length': String(r.body.byteLength) });
        res.end(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
      }
    };
    const fail = (err: unknown): void => {
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(err instanceof Error ? err.message : String(err));
    };
    const dispatch = (body: Uint8Array): void => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      const request: HttpRequest = {
        method: req.method,
        path: q >= 0 ? url.slice(0, q) : url,
        query: q >= 0 ? parseQueryPairs(url.slice(q + 1)) : [],
        headers: headersOf(req.headers),
        body,
        remoteAddr: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`,
      };
      let answer: Promise<HttpResponse> | void;
      try {
        answer = opts.handle(request, send);
      } catch (err) {
        fail(err);
        return;
      }
      if (answer) answer.then(send, fail);
    };
    // Most API calls are bodiless GETs: skip the stream machinery for them.
    const declared = req.headers['content-length'];
    if (!req.headers['transfer-encoding'] && (declared === undefined || declared === '0')) {
      req.resume();
      dispatch(EMPTY);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Request body exceeds ${MAX_BODY_BYTES} byte limit`);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!refused) dispatch(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', () => res.destroy());
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s: Server = opts.tls ? https.createServer(opts.tls, app).listen(opts.port, opts.ip) : app.listen(opts.port, opts.ip);
    const onError = (err: unknown): void => {
      const why = errnoCode(err) === 'EADDRINUSE' ? 'address already in use' : explainErrno(err);
      reject(new Error(`Error starting ${opts.tls ? 'HTTPS' : 'HTTP'} server on ${opts.ip}:${opts.port}: ${why}`));
    };
    s.once('error', onError);
    s.once('listening', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
  // Blocking queries can last 10 minutes; Node's default request timeout would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;

  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
