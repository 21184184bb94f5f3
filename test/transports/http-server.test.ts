// test/transports/http-server.test.ts — the express adapter's two ways of answering (a
// `respond` callback, the agent's hot path, or a returned promise), the request it hands the
// core (path, decoded query pairs, lower-case one-string headers, raw body), and errors.
// Real sockets on 127.22.1.1 (perf's loopback block), port 0.
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../core/http/types.ts';
import { startHttpServer, type RunningHttpServer } from '../../transports/http-server.ts';

const IP = '127.22.1.1';
let server: RunningHttpServer | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

describe('transports/http-server', () => {
  it('answers through the respond callback, with the request as the core sees it', async () => {
    const seen: HttpRequest[] = [];
    server = await startHttpServer({
      ip: IP,
      port: 0,
      handle: (req, respond) => {
        seen.push(req);
        respond({ status: 201, headers: { 'X-Consul-Index': '7' }, body: `got ${req.method} ${req.path}` });
      },
    });
    const r = await fetch(`http://${server.address}/v1/kv/a%2Fb?recurse&sep=%2F`, {
      method: 'PUT',
      body: 'hello',
      headers: { 'X-Consul-Token': 'secret', Cookie: 'a=1' },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-consul-index')).toBe('7');
    expect(r.headers.get('content-length')).toBe(String('got PUT /v1/kv/a%2Fb'.length));
    expect(await r.text()).toBe('got PUT /v1/kv/a%2Fb');
    const req = seen[0]!;
    expect(req.query).toEqual([
      ['recurse', ''],
      ['sep', '/'],
    ]);
    expect(req.headers['x-consul-token']).toBe('secret');
    expect(new TextDecoder().decode(req.body)).toBe('hello');
    expect(req.remoteAddr).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('still takes a promise, answers a throw or a rejection with 500, and ignores a second answer', async () => {
    let mode: 'promise' | 'throw' | 'reject' | 'twice' = 'promise';
    server = await startHttpServer({
      ip: IP,
      port: 0,
      handle: (_req, respond) => {
        if (mode === 'throw') throw new Error('boom');
        if (mode === 'reject') return Promise.reject(new Error('no'));
        if (mode === 'twice') {
          respond({ status: 200, headers: {}, body: 'first' });
          respond({ status: 500, headers: {}, body: 'second' });
          return;
        }
        return Promise.resolve({ status: 200, headers: { 'Content-Type': 'application/json' }, body: new TextEncoder().encode('[1]') });
      },
    });
    const get = async () => {
      const r = await fetch(`http://${server!.address}/x`);
      return [r.status, await r.text()];
    };
    expect(await get()).toEqual([200, '[1]']);
    mode = 'throw';
    expect(await get()).toEqual([500, 'boom']);
    mode = 'reject';
    expect(await get()).toEqual([500, 'no']);
    mode = 'twice';
    expect(await get()).toEqual([200, 'first']);
  });

  it('gives the core one string per header even when Node holds a list (set-cookie)', async () => {
    let headers: Record<string, string> = {};
    server = await startHttpServer({
      ip: IP,
      port: 0,
      handle: (req, respond) => {
        headers = req.headers;
        respond({ status: 200, headers: {}, body: '' });
      },
    });
    const { request } = await import('node:http');
    const [host, port] = server.address.split(':') as [string, string];
    await new Promise<void>((resolve, reject) => {
      const req = request({ host, port: Number(port), path: '/', headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Other': 'y' } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    expect(headers['set-cookie']).toBe('a=1, b=2');
    expect(headers['x-other']).toBe('y');
  });
});
