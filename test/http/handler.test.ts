// Handler tests: every endpoint and error case, through the core handler and a fake backend
// (real CatalogFSM for RPCs, in-memory agent state for agent ops).
import { describe, expect, it } from 'vitest';
import { handleHttp } from '../../core/http/handler.ts';
import { FakeBackend, bodyJsonOf, bodyText, member, request } from './fake-backend.ts';

const enc = (s: string) => new TextEncoder().encode(s);

async function call(b: FakeBackend, method: string, url: string, body?: string | Uint8Array) {
  return b.handle(request(method, url, body));
}

const WEB3 = {
  ID: 'web3',
  Name: 'web3',
  Tags: ['master'],
  Address: '127.0.0.1',
  Port: 10000,
  Check: { TTL: '15s' },
};

describe('routing and generic errors', () => {
  it('404 for unknown paths, 405 with Allow for wrong methods', async () => {
    const b = new FakeBackend();
    const nf = await call(b, 'GET', '/v1/nope');
    expect(nf.status).toBe(404);
    expect(bodyText(nf)).toContain('/v1/nope');
    const wrong = await call(b, 'POST', '/v1/kv/a');
    expect(wrong.status).toBe(405);
    expect(wrong.headers['Allow']).toBe('GET, PUT, DELETE');
    const wrong2 = await call(b, 'GET', '/v1/agent/service/register');
    expect(wrong2.status).toBe(405);
  });

  it('root answers Consul Agent', async () => {
    const r = await call(new FakeBackend(), 'GET', '/');
    expect(r.status).toBe(200);
    expect(bodyText(r)).toBe('Consul Agent');
  });

  it('?stale with ?consistent is a 400', async () => {
    const r = await call(new FakeBackend(), 'GET', '/v1/catalog/nodes?stale&consistent');
    expect(r.status).toBe(400);
    expect(bodyText(r)).toBe('Cannot specify ?stale with ?consistent, conflicting semantics.');
  });

  it('?dc= of the local dc works; another dc is a 500 No path to datacenter', async () => {
    const b = new FakeBackend();
    expect((await call(b, 'GET', '/v1/catalog/nodes?dc=dc1')).status).toBe(200);
    const r = await call(b, 'GET', '/v1/catalog/nodes?dc=dc2');
    expect(r.status).toBe(500);
    expect(bodyText(r)).toBe('No path to datacenter');
  });

  it('bad index / wait are 400s', async () => {
    const b = new FakeBackend();
    expect(bodyText(await call(b, 'GET', '/v1/catalog/nodes?index=abc'))).toBe('Invalid index');
    const r = await call(b, 'GET', '/v1/catalog/nodes?index=1&wait=10x');
    expect(r.status).toBe(400);
    expect(bodyText(r)).toBe('Invalid wait time');
  });

  it('?pretty indents with 4 spaces and ends with a newline; compact otherwise', async () => {
    const b = new FakeBackend();
    const pretty = bodyText(await call(b, 'GET', '/v1/catalog/services?pretty'));
    expect(pretty).toBe('{}\n');
    const nodes = bodyText(await call(b, 'GET', '/v1/catalog/nodes?pretty=1'));
    expect(nodes).toContain('\n    {\n        "ID": ""');
    expect(bodyText(await call(b, 'GET', '/v1/catalog/nodes'))).not.toContain('\n');
  });

  it('bad percent-encoding in the path is a 400', async () => {
    const r = await call(new FakeBackend(), 'GET', '/v1/kv/%zz');
    expect(r.status).toBe(400);
  });

  it('an exception while rendering becomes a 500, not a throw', () => {
    const b = new FakeBackend();
    const out = handleHttp(request('GET', '/v1/catalog/nodes'), b.ctx());
    expect(out.kind).toBe('rpc');
    if (out.kind !== 'rpc') return;
    const res = out.then({ ok: true, meta: { index: 1, knownLeader: true, lastContactMs: 0 }, value: 42 });
    expect(res.status).toBe(500);
    expect(bodyText(res)).toMatch(/^Internal error/);
  });
});

describe('read headers', () => {
  it('X-Consul-Index, KnownLeader, LastContact on reads; index never 0', async () => {
    const b = new FakeBackend();
    const r = await call(b, 'GET', '/v1/catalog/nodes');
    expect(r.headers['X-Consul-Index']).toBe(String(b.fsm.tableIndex('nodes')));
    expect(r.headers['X-Consul-KnownLeader']).toBe('true');
    expect(r.headers['X-Consul-LastContact']).toBe('0');
    const kv = await call(b, 'GET', '/v1/kv/missing');
    expect(kv.status).toBe(404);
    expect(Number(kv.headers['X-Consul-Index'])).toBeGreaterThanOrEqual(1);
    expect(bodyText(kv)).toBe('');
  });

  it('no leader: reads and writes fail with No cluster leader (500); stale reads still answer', async () => {
    const b = new FakeBackend();
    b.leader = null;
    const r = await call(b, 'GET', '/v1/catalog/nodes');
    expect(r.status).toBe(500);
    expect(bodyText(r)).toBe('No cluster leader');
    const w = await call(b, 'PUT', '/v1/kv/a', 'x');
    expect(bodyText(w)).toBe('No cluster leader');
    const s = await call(b, 'GET', '/v1/catalog/nodes?stale');
    expect(s.status).toBe(200);
    expect(s.headers['X-Consul-KnownLeader']).toBe('false');
  });
});

describe('/v1/agent', () => {
  it('self returns Config, Member (numeric Status) and Stats', async () => {
    const b = new FakeBackend();
    b.stats = { raft: { state: 'Leader' } };
    const j = bodyJsonOf(await call(b, 'GET', '/v1/agent/self')) as Record<string, any>;
    expect(Object.keys(j)).toEqual(['Config', 'Member', 'Stats']);
    expect(j['Config'].NodeName).toBe('n1');
    expect(j['Member'].Status).toBe(1);
    expect(j['Stats'].raft.state).toBe('Leader');
  });

  it('members: LAN by default, WAN with ?wan; Consul field order and Status numbers', async () => {
    const b = new FakeBackend();
    b.membersLan.push(member('n2', '10.0.0.2', 'consul', 'left'), member('n3', '10.0.0.3', 'node', 'failed'));
    b.membersWan = [member('n1.dc1', '127.0.0.1', 'consul')];
    const lan = bodyJsonOf(await call(b, 'GET', '/v1/agent/members')) as Array<Record<string, unknown>>;
    expect(lan.map((m) => m['Status'])).toEqual([1, 3, 4]);
    expect(Object.keys(lan[0]!)).toEqual([
      'Name', 'Addr', 'Port', 'Tags', 'Status', 'ProtocolMin', 'ProtocolMax', 'ProtocolCur', 'DelegateMin', 'DelegateMax', 'DelegateCur',
    ]);
    const wan = bodyJsonOf(await call(b, 'GET', '/v1/agent/members?wan=1')) as Array<Record<string, unknown>>;
    expect(wan.map((m) => m['Name'])).toEqual(['n1.dc1']);
  });

  it('service register → agent services/checks, catalog and health; deregister removes', async () => {
    const b = new FakeBackend();
    const r = await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify(WEB3));
    expect(r.status).toBe(200);
    expect(bodyText(r)).toBe('');
    const svcs = bodyJsonOf(await call(b, 'GET', '/v1/agent/services')) as Record<string, any>;
    expect(svcs['web3']).toEqual({
      ID: 'web3', Service: 'web3', Tags: ['master'], Meta: {}, Port: 10000, Address: '127.0.0.1',
      EnableTagOverride: false, Weights: { Passing: 1, Warning: 1 },
    });
    const checks = bodyJsonOf(await call(b, 'GET', '/v1/agent/checks')) as Record<string, any>;
    expect(checks['service:web3'].Name).toBe("Service 'web3' check");
    expect(checks['service:web3'].Status).toBe('critical');
    const cat = bodyJsonOf(await call(b, 'GET', '/v1/catalog/service/web3')) as Array<Record<string, unknown>>;
    expect(cat).toHaveLength(1);
    expect(cat[0]!['ServiceAddress']).toBe('127.0.0.1');
    expect(cat[0]!['ServicePort']).toBe(10000);
    expect(cat[0]!['Node']).toBe('n1');
    const dr = await call(b, 'PUT', '/v1/agent/service/deregister/web3');
    expect(dr.status).toBe(200);
    expect(bodyJsonOf(await call(b, 'GET', '/v1/catalog/service/web3'))).toEqual([]);
  });

  it('service register accepts snake_case and rejects bad definitions with the field named', async () => {
    const b = new FakeBackend();
    const ok = await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify({ name: 'db', port: 5432, check: { ttl: '10s' } }));
    expect(ok.status).toBe(200);
    const bad = await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '10x' } }));
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toBe('Check.Interval: "10x" is not a duration (use e.g. "10s")');
    const noName = await call(b, 'PUT', '/v1/agent/service/register', '{"Port": 1}');
    expect(noName.status).toBe(400);
    expect(bodyText(noName)).toContain('name');
    const junk = await call(b, 'PUT', '/v1/agent/service/register', '{"Name": ');
    expect(junk.status).toBe(400);
    expect(bodyText(junk)).toMatch(/^Request decode failed: /);
    const empty = await call(b, 'PUT', '/v1/agent/service/register');
    expect(empty.status).toBe(400);
  });

  it('TTL check pass/warn/fail/update drive the status; update validates Status', async () => {
    const b = new FakeBackend();
    await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify(WEB3));
    const status = async () =>
      ((bodyJsonOf(await call(b, 'GET', '/v1/health/checks/web3')) as Array<Record<string, unknown>>)[0]!);
    expect((await call(b, 'PUT', '/v1/agent/check/pass/service:web3?note=fine')).status).toBe(200);
    expect(await status()).toMatchObject({ Status: 'passing', Output: 'fine' });
    await call(b, 'GET', '/v1/agent/check/warn/service:web3');
    expect((await status())['Status']).toBe('warning');
    await call(b, 'PUT', '/v1/agent/check/fail/service:web3');
    expect((await status())['Status']).toBe('critical');
    const up = await call(b, 'PUT', '/v1/agent/check/update/service:web3', '{"Status":"passing","Output":"ok"}');
    expect(up.status).toBe(200);
    expect(await status()).toMatchObject({ Status: 'passing', Output: 'ok' });
    const bad = await call(b, 'PUT', '/v1/agent/check/update/service:web3', '{"Status":"great"}');
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toBe("Invalid check status: 'great'");
    const unknown = await call(b, 'PUT', '/v1/agent/check/pass/nope');
    expect(unknown.status).toBe(500);
    expect(bodyText(unknown)).toContain('does not have associated TTL');
  });

  it('check register / deregister (standalone, name required)', async () => {
    const b = new FakeBackend();
    const r = await call(b, 'PUT', '/v1/agent/check/register', JSON.stringify({ Name: 'mem', TTL: '30s', Status: 'passing' }));
    expect(r.status).toBe(200);
    const op = b.ops.at(-1)!;
    expect(op).toMatchObject({ op: 'checkRegister', def: { id: 'mem', name: 'mem', status: 'passing', probe: { type: 'ttl', ttlMs: 30000 } } });
    const node = bodyJsonOf(await call(b, 'GET', '/v1/health/node/n1')) as Array<Record<string, unknown>>;
    expect(node.map((c) => c['CheckID'])).toEqual(['mem', 'serfHealth']);
    expect((await call(b, 'PUT', '/v1/agent/check/deregister/mem')).status).toBe(200);
    const bad = await call(b, 'PUT', '/v1/agent/check/register', JSON.stringify({ TTL: '30s' }));
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toContain('name: required');
  });

  it('join / leave / force-leave / reload / maintenance become agent ops', async () => {
    const b = new FakeBackend();
    expect((await call(b, 'PUT', '/v1/agent/join/10.0.0.2?wan=1')).status).toBe(200);
    expect(b.ops.at(-1)).toEqual({ op: 'join', addrs: ['10.0.0.2'], wan: true });
    b.unreachable.add('10.0.0.9');
    const failed = await call(b, 'PUT', '/v1/agent/join/10.0.0.9');
    expect(failed.status).toBe(500);
    expect(bodyText(failed)).toContain('connection refused');
    expect((await call(b, 'PUT', '/v1/agent/leave')).status).toBe(200);
    expect(b.ops.at(-1)).toEqual({ op: 'leave' });
    b.membersLan.push(member('n9', '10.0.0.9', 'node', 'failed'));
    expect((await call(b, 'PUT', '/v1/agent/force-leave/n9')).status).toBe(200);
    expect(b.ops.at(-1)).toEqual({ op: 'forceLeave', node: 'n9' });
    expect((await call(b, 'PUT', '/v1/agent/force-leave/')).status).toBe(400);
    expect((await call(b, 'PUT', '/v1/agent/reload')).status).toBe(200);
    expect((await call(b, 'PUT', '/v1/agent/maintenance?enable=true&reason=patching')).status).toBe(200);
    expect(b.ops.at(-1)).toEqual({ op: 'nodeMaintenance', enable: true, reason: 'patching' });
    const missing = await call(b, 'PUT', '/v1/agent/maintenance');
    expect(missing.status).toBe(400);
    expect(bodyText(missing)).toBe('Missing value for enable');
    expect((await call(b, 'PUT', '/v1/agent/maintenance?enable=maybe')).status).toBe(400);
  });

  it('service maintenance needs a known service', async () => {
    const b = new FakeBackend();
    await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify(WEB3));
    expect((await call(b, 'PUT', '/v1/agent/service/maintenance/web3?enable=true')).status).toBe(200);
    expect(b.ops.at(-1)).toEqual({ op: 'serviceMaintenance', id: 'web3', enable: true, reason: '' });
    expect((await call(b, 'PUT', '/v1/agent/service/maintenance/nope?enable=true')).status).toBe(404);
  });

  it('monitor returns log lines after ?index, filtered by level, and long-polls', async () => {
    const b = new FakeBackend();
    b.log('INFO', '[INFO] agent: one');
    b.log('DEBUG', '[DEBUG] agent: two');
    const r = await call(b, 'GET', '/v1/agent/monitor');
    expect(bodyText(r)).toBe('[INFO] agent: one\n');
    expect(r.headers['X-Consul-Index']).toBe('2');
    const dbg = await call(b, 'GET', '/v1/agent/monitor?loglevel=debug&index=1');
    expect(bodyText(dbg)).toBe('[DEBUG] agent: two\n');
    const pending = call(b, 'GET', '/v1/agent/monitor?index=2&wait=5s');
    setTimeout(() => b.log('WARN', '[WARN] agent: three'), 20);
    const woke = await pending;
    expect(bodyText(woke)).toBe('[WARN] agent: three\n');
    expect(woke.headers['X-Consul-Index']).toBe('3');
    expect((await call(b, 'GET', '/v1/agent/monitor?loglevel=loud')).status).toBe(400);
  });
});

describe('/v1/catalog and /v1/health', () => {
  async function withWeb3(): Promise<FakeBackend> {
    const b = new FakeBackend();
    await call(b, 'PUT', '/v1/agent/service/register', JSON.stringify(WEB3));
    await call(
      b,
      'PUT',
      '/v1/catalog/register',
      JSON.stringify({
        Node: 'n3',
        Address: '10.10.126.187',
        Service: { ID: 'web3', Service: 'web3', Tags: ['slave'], Port: 10000 },
        Checks: [
          { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' },
          { CheckID: 'service:web3', Name: "Service 'web3' check", Status: 'passing', ServiceID: 'web3' },
        ],
      }),
    );
    return b;
  }

  it('datacenters from the local dc and WAN members', async () => {
    const b = new FakeBackend();
    b.membersWan = [member('n1.dc1', '127.0.0.1', 'consul'), member('x.dc2', '10.9.9.9', 'consul', 'alive', 'dc2')];
    expect(bodyJsonOf(await call(b, 'GET', '/v1/catalog/datacenters'))).toEqual(['dc1', 'dc2']);
  });

  it('nodes, node, services, service (with ?tag)', async () => {
    const b = await withWeb3();
    const nodes = bodyJsonOf(await call(b, 'GET', '/v1/catalog/nodes')) as Array<Record<string, unknown>>;
    expect(nodes.map((n) => n['Node'])).toEqual(['n1', 'n3']);
    expect(Object.keys(nodes[0]!)).toEqual(['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'Meta', 'CreateIndex', 'ModifyIndex']);
    const n3 = bodyJsonOf(await call(b, 'GET', '/v1/catalog/node/n3')) as Record<string, any>;
    expect(n3['Node'].Address).toBe('10.10.126.187');
    expect(Object.keys(n3['Services'])).toEqual(['web3']);
    expect(bodyText(await call(b, 'GET', '/v1/catalog/node/ghost'))).toBe('null');
    expect(bodyJsonOf(await call(b, 'GET', '/v1/catalog/services'))).toEqual({ web3: ['master', 'slave'] });
    const tagged = bodyJsonOf(await call(b, 'GET', '/v1/catalog/service/web3?tag=slave')) as Array<Record<string, unknown>>;
    expect(tagged.map((r) => r['Node'])).toEqual(['n3']);
    expect(Object.keys(tagged[0]!).slice(0, 7)).toEqual(['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'NodeMeta', 'ServiceID']);
  });

  it('health service with and without ?passing; checks; state', async () => {
    const b = await withWeb3();
    const all = bodyJsonOf(await call(b, 'GET', '/v1/health/service/web3')) as Array<Record<string, any>>;
    expect(all.map((e) => e['Node'].Node)).toEqual(['n1', 'n3']);
    expect(Object.keys(all[0]!)).toEqual(['Node', 'Service', 'Checks']);
    for (const flag of ['passing', 'passing=1', 'passing=true', 'passing=']) {
      const p = bodyJsonOf(await call(b, 'GET', `/v1/health/service/web3?${flag}`)) as Array<Record<string, any>>;
      expect(p.map((e) => e['Node'].Node)).toEqual(['n3']);
    }
    const checks = bodyJsonOf(await call(b, 'GET', '/v1/health/checks/web3')) as Array<Record<string, unknown>>;
    expect(checks.map((c) => `${c['Node']}/${c['CheckID']}/${c['Status']}`)).toEqual(['n1/service:web3/critical', 'n3/service:web3/passing']);
    const crit = bodyJsonOf(await call(b, 'GET', '/v1/health/state/critical')) as Array<Record<string, unknown>>;
    expect(crit.map((c) => c['CheckID'])).toEqual(['service:web3']);
    const any = bodyJsonOf(await call(b, 'GET', '/v1/health/state/any')) as unknown[];
    expect(any).toHaveLength(4);
    const bad = await call(b, 'GET', '/v1/health/state/sideways');
    expect(bad.status).toBe(400);
  });

  it('catalog register/deregister validation and results', async () => {
    const b = new FakeBackend();
    const noNode = await call(b, 'PUT', '/v1/catalog/register', JSON.stringify({ Address: '1.2.3.4' }));
    expect(noNode.status).toBe(400);
    expect(bodyText(noNode)).toBe('Must provide node');
    const noAddr = await call(b, 'PUT', '/v1/catalog/register', JSON.stringify({ Node: 'x' }));
    expect(bodyText(noAddr)).toBe('Must provide address');
    const otherDc = await call(b, 'PUT', '/v1/catalog/register', JSON.stringify({ Datacenter: 'dc9', Node: 'x', Address: '1.1.1.1' }));
    expect(otherDc.status).toBe(500);
    const ok = await call(b, 'PUT', '/v1/catalog/register', JSON.stringify({ Node: 'x', Address: '1.1.1.1' }));
    expect(bodyText(ok)).toBe('true');
    const dr = await call(b, 'PUT', '/v1/catalog/deregister', JSON.stringify({ Node: 'x' }));
    expect(bodyText(dr)).toBe('true');
    expect((bodyJsonOf(await call(b, 'GET', '/v1/catalog/nodes')) as unknown[]).length).toBe(1);
    expect((await call(b, 'PUT', '/v1/catalog/deregister', '{}')).status).toBe(400);
  });

  it('a blocking read waits for a change past ?index and wakes on it', async () => {
    const b = await withWeb3();
    const first = await call(b, 'GET', '/v1/health/service/web3?passing');
    const idx = first.headers['X-Consul-Index']!;
    let done = false;
    const pending = call(b, 'GET', `/v1/health/service/web3?passing&index=${idx}&wait=10s`).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    await call(b, 'PUT', '/v1/agent/check/pass/service:web3');
    const woke = await pending;
    expect(Number(woke.headers['X-Consul-Index'])).toBeGreaterThan(Number(idx));
    expect((bodyJsonOf(woke) as unknown[]).length).toBe(2);
  });

  it('a blocking read returns at the deadline with the same index when nothing changes', async () => {
    const b = new FakeBackend();
    const idx = (await call(b, 'GET', '/v1/catalog/nodes')).headers['X-Consul-Index']!;
    const t0 = Date.now();
    const r = await call(b, 'GET', `/v1/catalog/nodes?index=${idx}&wait=100ms`);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(100 + 100 / 16 + 200);
    expect(r.headers['X-Consul-Index']).toBe(idx);
  });
});

describe('blocking parameters reach the RPC', () => {
  it('default wait 5 min, cap 10 min, jitter ≤ wait/16, Go ms durations', () => {
    const b = new FakeBackend();
    const waitOf = (url: string) => {
      const out = handleHttp(request('GET', url), b.ctx());
      if (out.kind !== 'rpc' || out.request.type !== 'read') throw new Error('expected a read');
      return out.request;
    };
    for (let i = 0; i < 50; i++) {
      const d = waitOf('/v1/kv/k?index=5');
      expect(d.minIndex).toBe(5);
      expect(d.maxWaitMs).toBeGreaterThanOrEqual(300_000);
      expect(d.maxWaitMs).toBeLessThanOrEqual(300_000 + 300_000 / 16);
      const cap = waitOf('/v1/kv/k?index=5&wait=1h');
      expect(cap.maxWaitMs).toBeGreaterThanOrEqual(600_000);
      expect(cap.maxWaitMs).toBeLessThanOrEqual(600_000 + 600_000 / 16);
      const ms = waitOf('/v1/kv/k?index=5&wait=300000ms');
      expect(ms.maxWaitMs).toBeGreaterThanOrEqual(300_000);
    }
    expect(waitOf('/v1/kv/k').minIndex).toBe(0);
    expect(waitOf('/v1/kv/k?consistent').consistency).toBe('consistent');
    expect(waitOf('/v1/kv/k?stale=').consistency).toBe('stale');
  });
});

describe('/v1/kv', () => {
  it('put/get round trip with base64 value, flags, raw, and Consul field order', async () => {
    const b = new FakeBackend();
    const put = await call(b, 'PUT', '/v1/kv/web/config?flags=42', 'hello');
    expect(put.status).toBe(200);
    expect(bodyText(put)).toBe('true');
    const get = await call(b, 'GET', '/v1/kv/web/config');
    const [e] = bodyJsonOf(get) as Array<Record<string, unknown>>;
    expect(Object.keys(e!)).toEqual(['CreateIndex', 'ModifyIndex', 'LockIndex', 'Key', 'Flags', 'Value']);
    expect(e).toMatchObject({ Key: 'web/config', Flags: 42, Value: Buffer.from('hello').toString('base64'), LockIndex: 0 });
    expect(get.headers['X-Consul-Index']).toBe(String(e!['ModifyIndex']));
    const raw = await call(b, 'GET', '/v1/kv/web/config?raw');
    expect(bodyText(raw)).toBe('hello');
    await call(b, 'PUT', '/v1/kv/empty', '');
    const [emptyEntry] = bodyJsonOf(await call(b, 'GET', '/v1/kv/empty')) as Array<Record<string, unknown>>;
    expect(emptyEntry!['Value']).toBeNull();
  });

  it('recurse, keys with separator (and the legacy seperator), 404s', async () => {
    const b = new FakeBackend();
    for (const k of ['web/a', 'web/b', 'web/sub/c', 'other']) await call(b, 'PUT', `/v1/kv/${k}`, k);
    const rec = bodyJsonOf(await call(b, 'GET', '/v1/kv/web/?recurse')) as Array<Record<string, unknown>>;
    expect(rec.map((e) => e['Key'])).toEqual(['web/a', 'web/b', 'web/sub/c']);
    expect(bodyJsonOf(await call(b, 'GET', '/v1/kv/web/?keys&separator=/'))).toEqual(['web/a', 'web/b', 'web/sub/']);
    expect(bodyJsonOf(await call(b, 'GET', '/v1/kv/web/?keys&seperator=/'))).toEqual(['web/a', 'web/b', 'web/sub/']);
    expect(bodyJsonOf(await call(b, 'GET', '/v1/kv/?keys&separator=/'))).toEqual(['other', 'web/']);
    expect((await call(b, 'GET', '/v1/kv/nothing/?recurse')).status).toBe(404);
    expect((await call(b, 'GET', '/v1/kv/nothing/?keys')).status).toBe(404);
    expect((await call(b, 'GET', '/v1/kv/nothing/?keys')).headers['X-Consul-Index']).toBeDefined();
  });

  it('Missing key name, Conflicting flags, 413 over 512 KB', async () => {
    const b = new FakeBackend();
    const mk = await call(b, 'GET', '/v1/kv/');
    expect(mk.status).toBe(400);
    expect(bodyText(mk)).toBe('Missing key name');
    expect(bodyText(await call(b, 'PUT', '/v1/kv/', 'x'))).toBe('Missing key name');
    expect(bodyText(await call(b, 'DELETE', '/v1/kv/'))).toBe('Missing key name');
    const conflict = await call(b, 'PUT', '/v1/kv/k?cas=0&acquire=abc', 'x');
    expect(conflict.status).toBe(400);
    expect(bodyText(conflict)).toBe('Conflicting flags: acquire=abc&cas=0');
    const big = await call(b, 'PUT', '/v1/kv/big', new Uint8Array(524_289));
    expect(big.status).toBe(413);
    expect(bodyText(big)).toBe('Value exceeds 524288 byte limit');
    expect((await call(b, 'PUT', '/v1/kv/ok', new Uint8Array(524_288))).status).toBe(200);
    expect((await call(b, 'PUT', '/v1/kv/k?flags=-1', 'x')).status).toBe(400);
  });

  it('cas: 0 creates only, index must match', async () => {
    const b = new FakeBackend();
    expect(bodyText(await call(b, 'PUT', '/v1/kv/c?cas=0', 'a'))).toBe('true');
    expect(bodyText(await call(b, 'PUT', '/v1/kv/c?cas=0', 'b'))).toBe('false');
    const [e] = bodyJsonOf(await call(b, 'GET', '/v1/kv/c')) as Array<Record<string, number>>;
    expect(bodyText(await call(b, 'PUT', `/v1/kv/c?cas=${e!['ModifyIndex']! + 100}`, 'c'))).toBe('false');
    expect(bodyText(await call(b, 'PUT', `/v1/kv/c?cas=${e!['ModifyIndex']}`, 'c'))).toBe('true');
  });

  it('delete: single, cas, recurse', async () => {
    const b = new FakeBackend();
    for (const k of ['d/1', 'd/2', 'e']) await call(b, 'PUT', `/v1/kv/${k}`, 'v');
    expect(bodyText(await call(b, 'DELETE', '/v1/kv/e?cas=999'))).toBe('false');
    expect(bodyText(await call(b, 'DELETE', '/v1/kv/e'))).toBe('true');
    expect((await call(b, 'GET', '/v1/kv/e')).status).toBe(404);
    expect(bodyText(await call(b, 'DELETE', '/v1/kv/d/?recurse'))).toBe('true');
    expect((await call(b, 'GET', '/v1/kv/d/?recurse')).status).toBe(404);
  });

  it('acquire/release with sessions; invalid session is Consul\'s 500 string', async () => {
    const b = new FakeBackend();
    const s1 = (bodyJsonOf(await call(b, 'PUT', '/v1/session/create', '{"Name":"a"}')) as { ID: string }).ID;
    const s2 = (bodyJsonOf(await call(b, 'PUT', '/v1/session/create')) as { ID: string }).ID;
    expect(s1).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(bodyText(await call(b, 'PUT', `/v1/kv/lock?acquire=${s1}`, 'me'))).toBe('true');
    expect(bodyText(await call(b, 'PUT', `/v1/kv/lock?acquire=${s2}`, 'you'))).toBe('false');
    const [held] = bodyJsonOf(await call(b, 'GET', '/v1/kv/lock')) as Array<Record<string, unknown>>;
    expect(held).toMatchObject({ Session: s1, LockIndex: 1 });
    expect(bodyText(await call(b, 'PUT', `/v1/kv/lock?release=${s2}`, ''))).toBe('false');
    expect(bodyText(await call(b, 'PUT', `/v1/kv/lock?release=${s1}`, ''))).toBe('true');
    const [free] = bodyJsonOf(await call(b, 'GET', '/v1/kv/lock')) as Array<Record<string, unknown>>;
    expect(free!['Session']).toBeUndefined();
    const bad = await call(b, 'PUT', '/v1/kv/lock?acquire=nope', 'x');
    expect(bad.status).toBe(500);
    expect(bodyText(bad)).toBe('invalid session "nope"');
  });

  it('a blocking KV get wakes on a write to that key', async () => {
    const b = new FakeBackend();
    await call(b, 'PUT', '/v1/kv/w', '1');
    const idx = (await call(b, 'GET', '/v1/kv/w')).headers['X-Consul-Index']!;
    const pending = call(b, 'GET', `/v1/kv/w?index=${idx}&wait=5s`);
    setTimeout(() => void call(b, 'PUT', '/v1/kv/w', '2'), 20);
    const r = await pending;
    const [e] = bodyJsonOf(r) as Array<Record<string, unknown>>;
    expect(e!['Value']).toBe(Buffer.from('2').toString('base64'));
  });
});

describe('/v1/session', () => {
  it('create (defaults, durations), info, node, list, renew, destroy', async () => {
    const b = new FakeBackend();
    const id = (bodyJsonOf(
      await call(b, 'PUT', '/v1/session/create', JSON.stringify({ Name: 'lock', TTL: '15s', LockDelay: '5s', Behavior: 'delete' })),
    ) as { ID: string }).ID;
    const [info] = bodyJsonOf(await call(b, 'GET', `/v1/session/info/${id}`)) as Array<Record<string, unknown>>;
    expect(info).toMatchObject({ ID: id, Name: 'lock', Node: 'n1', Checks: ['serfHealth'], LockDelay: 5e9, Behavior: 'delete', TTL: '15s' });
    expect(Object.keys(info!)).toEqual(['ID', 'Name', 'Node', 'Checks', 'NodeChecks', 'ServiceChecks', 'LockDelay', 'Behavior', 'TTL', 'CreateIndex', 'ModifyIndex']);
    const numeric = (bodyJsonOf(await call(b, 'PUT', '/v1/session/create', JSON.stringify({ lock_delay: 2, checks: [] }))) as { ID: string }).ID;
    const [n] = bodyJsonOf(await call(b, 'GET', `/v1/session/info/${numeric}`)) as Array<Record<string, unknown>>;
    expect(n).toMatchObject({ LockDelay: 2e9, Checks: [], TTL: '' });
    expect((bodyJsonOf(await call(b, 'GET', '/v1/session/node/n1')) as unknown[]).length).toBe(2);
    expect((bodyJsonOf(await call(b, 'GET', '/v1/session/list')) as unknown[]).length).toBe(2);
    const renew = await call(b, 'PUT', `/v1/session/renew/${id}`);
    expect(renew.status).toBe(200);
    expect((bodyJsonOf(renew) as Array<Record<string, unknown>>)[0]!['ID']).toBe(id);
    expect(bodyText(await call(b, 'PUT', `/v1/session/destroy/${id}`))).toBe('true');
    expect(bodyJsonOf(await call(b, 'GET', `/v1/session/info/${id}`))).toEqual([]);
    const gone = await call(b, 'PUT', `/v1/session/renew/${id}`);
    expect(gone.status).toBe(404);
    expect(bodyText(gone)).toBe(`Session id '${id}' not found`);
  });

  it('session ids are deterministic for a seed', async () => {
    const a = new FakeBackend({ seed: 's' });
    const c = new FakeBackend({ seed: 's' });
    const ida = bodyText(await call(a, 'PUT', '/v1/session/create'));
    const idc = bodyText(await call(c, 'PUT', '/v1/session/create'));
    expect(ida).toBe(idc);
  });

  it('Consul\'s TTL and behavior errors', async () => {
    const b = new FakeBackend();
    const short = await call(b, 'PUT', '/v1/session/create', '{"TTL":"5s"}');
    expect(short.status).toBe(500);
    expect(bodyText(short)).toBe("Invalid Session TTL '5000000000', must be between [10s=24h0m0s]");
    const junk = await call(b, 'PUT', '/v1/session/create', '{"TTL":"soon"}');
    expect(junk.status).toBe(500);
    expect(bodyText(junk)).toMatch(/^Session TTL 'soon' invalid/);
    const beh = await call(b, 'PUT', '/v1/session/create', '{"Behavior":"explode"}');
    expect(bodyText(beh)).toBe("Invalid Behavior setting 'explode'");
    const unknownNode = await call(b, 'PUT', '/v1/session/create', '{"Node":"ghost"}');
    expect(unknownNode.status).toBe(500);
    expect(bodyText(unknownNode)).toBe('Missing node registration');
  });
});

describe('/v1/status and /v1/operator/raft', () => {
  it('leader, peers, configuration, remove-peer', async () => {
    const b = new FakeBackend();
    b.peers = ['127.0.0.1:8300', '10.0.0.2:8300'];
    expect(bodyText(await call(b, 'GET', '/v1/status/leader'))).toBe('"127.0.0.1:8300"');
    expect(bodyJsonOf(await call(b, 'GET', '/v1/status/peers'))).toEqual(['127.0.0.1:8300', '10.0.0.2:8300']);
    const cfg = bodyJsonOf(await call(b, 'GET', '/v1/operator/raft/configuration')) as { Servers: Array<Record<string, unknown>> };
    expect(cfg.Servers.map((s) => s['Leader'])).toEqual([true, false]);
    const missing = await call(b, 'DELETE', '/v1/operator/raft/peer');
    expect(missing.status).toBe(400);
    expect(bodyText(missing)).toBe('Must specify ?address with IP:port of peer to remove');
    expect((await call(b, 'DELETE', '/v1/operator/raft/peer?address=10.0.0.2:8300')).status).toBe(200);
    expect(b.peers).toEqual(['127.0.0.1:8300']);
    const unknown = await call(b, 'DELETE', '/v1/operator/raft/peer?address=10.0.0.7:8300');
    expect(unknown.status).toBe(500);
    b.leader = null;
    expect(bodyText(await call(b, 'GET', '/v1/status/leader'))).toBe('""');
  });
});

describe('body decoding', () => {
  it('non-UTF-8 JSON bodies are a 400', async () => {
    const r = await call(new FakeBackend(), 'PUT', '/v1/agent/service/register', new Uint8Array([0xff, 0xfe]));
    expect(r.status).toBe(400);
    expect(bodyText(r)).toContain('UTF-8');
  });
  it('a JSON array where an object is needed is a 400', async () => {
    const r = await call(new FakeBackend(), 'PUT', '/v1/catalog/register', enc('[1]'));
    expect(r.status).toBe(400);
  });
});
