import { describe, expect, it } from 'vitest';
import { SimWorld, type SimProcessContext } from '../../sim/world.ts';
import type { HttpRequest } from '../../core/http/types.ts';
import { splitTarget } from '../../sim/serve.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function agentWorld(bindIp: (hostIp: string) => string) {
  const w = new SimWorld({ seed: 'serve' });
  const n1 = w.addHost('10.10.105.71', 'n1');
  w.addHost('10.10.126.101', 'n2');
  const seen: HttpRequest[] = [];
  let ctx!: SimProcessContext;
  n1.spawn(['consul', 'agent'], (c) => {
    ctx = c;
    const ip = bindIp(c.host.ip);
    c.ports.serve!.http(ip, 8500, (req, respond) => {
      seen.push(req);
      respond({ status: 200, headers: { 'Content-Type': 'application/json' }, body: `{"path":"${req.path}"}` });
    });
    c.ports.serve!.dns(ip, 8600, (bytes, transport, respond) => respond(enc.encode(`${transport}:${dec.decode(bytes)}`)));
  });
  return { w, seen, ctx: () => ctx };
}

describe('ServePort in the simulator', () => {
  it('HTTP requests arrive as core HttpRequest records', () => {
    const { w, seen } = agentWorld(() => '0.0.0.0');
    const got: unknown[] = [];
    w.httpRequest('n2', 'http://10.10.105.71:8500/v1/kv/a%2Fb?recurse&index=12&dc=dc+1', {
      method: 'PUT',
      headers: { 'X-Consul-Token': ['t'] },
      body: enc.encode('value'),
      timeoutMs: 1000,
    }, (r) => got.push(r));
    w.runFor(100);
    expect(seen.length).toBe(1);
    const r = seen[0]!;
    expect(r.method).toBe('PUT');
    expect(r.path).toBe('/v1/kv/a%2Fb');
    expect(r.query).toEqual([['recurse', ''], ['index', '12'], ['dc', 'dc 1']]);
    expect(r.headers).toEqual({ 'x-consul-token': 't' });
    expect(dec.decode(r.body)).toBe('value');
    expect(r.remoteAddr).toMatch(/^10\.10\.126\.101:\d+$/);
    expect(got).toMatchObject([{ ok: true, status: 200, body: '{"path":"/v1/kv/a%2Fb"}', headers: { 'Content-Type': 'application/json' } }]);
  });

  it('bound to 127.0.0.1: reachable from its own host only', () => {
    const { w } = agentWorld(() => '127.0.0.1');
    const local: unknown[] = [];
    const remote: unknown[] = [];
    w.httpRequest('n1', 'http://127.0.0.1:8500/v1/agent/self', { timeoutMs: 1000 }, (r) => local.push(r));
    w.httpRequest('n2', 'http://10.10.105.71:8500/v1/agent/self', { timeoutMs: 1000 }, (r) => remote.push(r));
    w.runFor(100);
    expect(local).toMatchObject([{ ok: true, status: 200 }]);
    expect(remote).toMatchObject([{ ok: false, reason: 'refused' }]);
  });

  it('DNS over datagram and stream; closeAll releases the ports', () => {
    const { w, ctx } = agentWorld(() => '127.0.0.1');
    const answers: (string | null)[] = [];
    w.dnsQuery('n1', '127.0.0.1:8600', enc.encode('q1'), { transport: 'udp' }, (a) => answers.push(a && dec.decode(a)));
    w.dnsQuery('n1', '127.0.0.1:8600', enc.encode('q2'), { transport: 'tcp' }, (a) => answers.push(a && dec.decode(a)));
    w.dnsQuery('n2', '10.10.105.71:8600', enc.encode('q3'), { transport: 'udp', timeoutMs: 500 }, (a) => answers.push(a && dec.decode(a)));
    w.runFor(1000);
    expect(answers).toEqual(['udp:q1', 'tcp:q2', null]);
    ctx().ports.net.closeAll();
    w.dnsQuery('n1', '127.0.0.1:8600', enc.encode('q4'), { transport: 'tcp' }, (a) => answers.push(a && dec.decode(a)));
    w.runFor(1000);
    expect(answers).toEqual(['udp:q1', 'tcp:q2', null, null]);
  });

  it('binding an address that is not the host\'s is a clear error', () => {
    const w = new SimWorld({ seed: 'serve2' });
    const h = w.addHost('10.0.0.1');
    expect(() => h.spawn(['x'], (c) => c.ports.serve!.http('10.0.0.9', 8500, () => {}))).toThrow(/cannot bind 10\.0\.0\.9:8500 on host 10\.0\.0\.1/);
  });

  it('splitTarget', () => {
    expect(splitTarget('/v1/catalog/nodes')).toEqual({ path: '/v1/catalog/nodes', query: [] });
    expect(splitTarget('/x?a=1&&b=%ZZ&c')).toEqual({ path: '/x', query: [['a', '1'], ['b', '%ZZ'], ['c', '']] });
  });
});
