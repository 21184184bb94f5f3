import { describe, expect, it } from 'vitest';
import { SimWorld, type SimProcessContext } from '../../sim/world.ts';
import type { CheckSpec, ProbeResult } from '../../core/runtime/ports.ts';

function setup() {
  const w = new SimWorld({ seed: 'probe' });
  const n2 = w.addHost('10.10.126.101', 'n2');
  const n3 = w.addHost('10.10.126.187', 'n3');
  let ctx!: SimProcessContext;
  n2.spawn(['consul', 'agent'], (c) => (ctx = c));
  const probe = (spec: CheckSpec): ProbeResult[] => {
    const out: ProbeResult[] = [];
    ctx.ports.probes.run(spec, (r) => out.push(r));
    return out;
  };
  return { w, n2, n3, probe };
}

const http = (url: string, timeoutMs = 10_000): CheckSpec => ({ type: 'http', url, method: 'GET', header: {}, timeoutMs });

describe('probes over the virtual network', () => {
  it('http: refused when nothing listens, with Consul/Go text', () => {
    const { w, probe } = setup();
    const r = probe(http('http://localhost:10000/health'));
    expect(r).toEqual([]); // never re-entrant
    w.runFor(100);
    expect(r).toEqual([{ status: 'critical', output: 'Get http://localhost:10000/health: dial tcp 127.0.0.1:10000: connect: connection refused' }]);
  });

  it('http: 2xx passing, 429 warning, 500 critical; service started/stopped on a host', () => {
    const { w, n2, n3, probe } = setup();
    let code = 200;
    n2.serveHttp(10000, (method, path) => ({ status: code, body: `${method} ${path} ok` }));
    const a = probe(http('http://localhost:10000/health'));
    w.runFor(100);
    expect(a).toEqual([{ status: 'passing', output: 'HTTP GET http://localhost:10000/health: 200 OK Output: GET /health ok' }]);
    code = 429;
    const b = probe(http('http://127.0.0.1:10000/health'));
    w.runFor(100);
    expect(b[0]!.status).toBe('warning');
    code = 503;
    const c = probe(http('http://10.10.126.101:10000/health'));
    w.runFor(100);
    expect(c[0]).toEqual({ status: 'critical', output: 'HTTP GET http://10.10.126.101:10000/health: 503 Service Unavailable Output: GET /health ok' });
    // another host's service, across the network
    n3.serveHttp(8080, () => ({ status: 204 }));
    const d = probe(http('http://10.10.126.187:8080/'));
    w.runFor(100);
    expect(d[0]!.status).toBe('passing');
    n2.stopHttp(10000);
    const e = probe(http('http://localhost:10000/health'));
    w.runFor(100);
    expect(e[0]!.output).toMatch(/connection refused$/);
  });

  it('http: timeout across a partition; deferred responses (blocking style)', () => {
    const { w, n3, probe } = setup();
    let pending: ((s: number) => void) | null = null;
    n3.serveHttp(8500, (_m, _p, req) => {
      pending = (s) => req.respond({ status: s, body: 'late' });
    });
    const a = probe(http('http://10.10.126.187:8500/v1/kv/x?index=5', 2000));
    w.runFor(500);
    expect(a).toEqual([]);
    pending!(200);
    w.runFor(100);
    expect(a[0]!.status).toBe('passing');
    w.net.isolate('10.10.126.187');
    const b = probe(http('http://10.10.126.187:8500/v1/kv/x', 2000));
    w.runFor(1999);
    expect(b).toEqual([]);
    w.runFor(2);
    expect(b).toEqual([{ status: 'critical', output: 'Get http://10.10.126.187:8500/v1/kv/x: net/http: request canceled (Client.Timeout exceeded while awaiting headers)' }]);
  });

  it('tcp and script probes', () => {
    const { w, n2, probe } = setup();
    n2.spawn(['listener'], (ctx) => ctx.ports.net.listenStream(8300, () => {}));
    const a = probe({ type: 'tcp', addr: '127.0.0.1:8300', timeoutMs: 1000 });
    const b = probe({ type: 'tcp', addr: '127.0.0.1:8301', timeoutMs: 1000 });
    const c = probe({ type: 'script', args: ['/bin/true'], timeoutMs: 1000 });
    w.runFor(100);
    expect(a).toEqual([{ status: 'passing', output: 'TCP connect 127.0.0.1:8300: Success' }]);
    expect(b).toEqual([{ status: 'critical', output: 'dial tcp 127.0.0.1:8301: connect: connection refused' }]);
    expect(c).toEqual([{ status: 'critical', output: 'script checks are not supported in the simulator' }]);
  });

  it('no result after the probing process died', () => {
    const { w, n2 } = setup();
    n2.serveHttp(9999, () => ({ status: 200 }));
    const out: ProbeResult[] = [];
    const p = n2.spawn(['x'], (ctx) => ctx.ports.probes.run(http('http://localhost:9999/'), (r) => out.push(r)));
    p.kill9();
    w.runFor(1000);
    expect(out).toEqual([]);
  });

  it('world.httpRequest acts as curl from a host', () => {
    const { w, n3 } = setup();
    n3.serveHttp(80, (m, p) => ({ status: 200, body: `${m}${p}` }));
    const got: unknown[] = [];
    w.httpRequest('n2', 'http://10.10.126.187/hello', { timeoutMs: 1000 }, (r) => got.push(r));
    w.runFor(100);
    expect(got).toMatchObject([{ ok: true, status: 200, body: 'GET/hello', headers: {} }]);
  });
});
