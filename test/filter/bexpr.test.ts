// Consul's filter language (core/filter) and the filters of the catalog and health endpoints
// (#15 item 5): node-meta, repeated tags, ?filter= with a 400 naming a bad expression.
import { describe, expect, it } from 'vitest';
import { compileFilter, evaluateFilter, FilterError } from '../../core/filter/bexpr.ts';
import { FILTER_SCHEMAS } from '../../core/filter/fields.ts';
import { FakeBackend, bodyJsonOf, bodyText, request } from '../http/fake-backend.ts';

const entry = {
  Node: { ID: 'i1', Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', TaggedAddresses: { lan: '10.0.0.1' }, Meta: { env: 'dev', 'rack-id': 'r1' } },
  Service: { ID: 'web1', Service: 'web', Tags: ['primary', 'v2'], Address: '', Meta: { version: '2.1' }, Port: 8080, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false },
  Checks: [
    { Node: 'n1', CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '' },
    { Node: 'n1', CheckID: 'service:web1', Name: 'web', Status: 'warning', ServiceID: 'web1', ServiceName: 'web', ServiceTags: ['primary'], Type: 'http' },
  ],
};
const run = (src: string): boolean => evaluateFilter(compileFilter(src, FILTER_SCHEMAS.healthEntry), entry);

describe('go-bexpr expressions', () => {
  it('every match operator', () => {
    const truths: Array<[string, boolean]> = [
      ['Service.Service == "web"', true],
      ['Service.Service != web', false],
      ['Service.Port == 8080', true],
      ['Service.Port != 8080', false],
      ['Service.EnableTagOverride == false', true],
      ['"primary" in Service.Tags', true],
      ['"canary" not in Service.Tags', true],
      ['Service.Tags contains "v2"', true],
      ['Service.Tags not contains "v2"', false],
      ['Service.Address is empty', true],
      ['Service.Tags is not empty', true],
      ['Node.Meta is not empty', true],
      ['Node.Node matches "^n[0-9]+$"', true],
      ['Node.Node not matches "^db"', true],
      ['Node.Meta.env == dev', true],
      ['Node.Meta["rack-id"] == "r1"', true],
      ['Service.Meta.version == "2.1"', true],
      ['Node.Meta.missing == "x"', false],
      ['Node.Meta.missing is empty', true],
      ['"env" in Node.Meta', true],
      ['Node.Meta contains "nope"', false],
      ['Checks.Status == warning', true],
      ['Checks.Status != critical', true],
      ['Checks.CheckID contains "serfHealth"', true],
      ['"dev" in Node.Meta.env', true],
    ];
    for (const [src, want] of truths) expect(run(src), src).toBe(want);
  });

  it('and / or / not with Consul’s precedence and parentheses', () => {
    expect(run('Service.Service == web and Node.Meta.env == prod or Service.Port == 8080')).toBe(true);
    expect(run('Service.Service == web and (Node.Meta.env == prod or Service.Port == 1)')).toBe(false);
    expect(run('not Service.Service == db')).toBe(true);
    expect(run('not (Service.Service == web and Node.Meta.env == dev)')).toBe(false);
    expect(run('Service.Service == db or not Service.Tags contains "v1" and Node.Node == n1')).toBe(true);
  });

  it('bad expressions name the position and what was expected', () => {
    const err = (src: string): string => {
      try {
        compileFilter(src, FILTER_SCHEMAS.healthEntry);
      } catch (e) {
        expect(e).toBeInstanceOf(FilterError);
        return (e as Error).message;
      }
      throw new Error(`${src} compiled`);
    };
    expect(err('Service.Service ==')).toBe('Failed to create boolean expression evaluator: 1:19 (18): expected a value (a "quoted string", a number, true or false), found the end of the expression');
    expect(err('garbage !!')).toMatch(/^Failed to create boolean expression evaluator: 1:9 \(8\): unexpected character "!"/);
    expect(err('Service.Nope == 1')).toBe('Failed to create boolean expression evaluator: Selector "Service.Nope" is not valid');
    expect(err('Service.Port contains 1')).toBe('Failed to create boolean expression evaluator: Invalid match operator "contains" for selector "Service.Port"');
    expect(err('Service.Port == eighty')).toMatch(/is a number/);
    expect(err('(Service.Service == web')).toMatch(/expected "\)"/);
    expect(err('Node.Node matches "("')).toMatch(/invalid regular expression/);
    expect(err('Service.Service == "web')).toMatch(/unterminated quoted string/);
    expect(err('')).toMatch(/expected an expression/);
  });
});

async function catalog(): Promise<FakeBackend> {
  const b = new FakeBackend();
  const reg = async (node: string, env: string, rack: string, id: string, tags: string[], port: number): Promise<void> => {
    const r = await b.handle(request('PUT', '/v1/catalog/register', JSON.stringify({
      Node: node, Address: `10.0.0.${node.slice(1)}`, NodeMeta: { env, rack },
      Service: { ID: id, Service: 'web', Tags: tags, Port: port, Meta: { v: String(port) } },
      Checks: [{ CheckID: `service:${id}`, Name: id, Status: port === 82 ? 'critical' : 'passing', ServiceID: id }],
    })));
    expect(r.status).toBe(200);
  };
  await reg('n1', 'dev', 'a', 'w1', ['a', 'b'], 80);
  await reg('n2', 'prod', 'a', 'w2', ['a'], 81);
  await reg('n3', 'prod', 'b', 'w3', ['a', 'b'], 82);
  return b;
}

const nodesOf = (v: unknown): string[] => (v as Array<Record<string, any>>).map((r) => r.Node?.Node ?? r.Node).sort();
const get = async (b: FakeBackend, url: string): Promise<unknown> => {
  const r = await b.handle(request('GET', url));
  expect(r.status, `${url}: ${bodyText(r)}`).toBe(200);
  return bodyJsonOf(r);
};

describe('catalog and health filters', () => {
  it('?node-meta= (repeatable, all must match) on nodes, service and health', async () => {
    const b = await catalog();
    expect(nodesOf(await get(b, '/v1/catalog/nodes?node-meta=env:dev'))).toEqual(['n1']);
    expect(nodesOf(await get(b, '/v1/catalog/nodes?node-meta=env:prod&node-meta=rack:a'))).toEqual(['n2']);
    expect(nodesOf(await get(b, '/v1/catalog/service/web?node-meta=env:prod'))).toEqual(['n2', 'n3']);
    expect(nodesOf(await get(b, '/v1/health/service/web?node-meta=rack:b'))).toEqual(['n3']);
    expect(Object.keys((await get(b, '/v1/catalog/services?node-meta=env:nowhere')) as object)).toEqual([]);
  });

  it('repeated ?tag= keeps instances with every tag', async () => {
    const b = await catalog();
    expect(nodesOf(await get(b, '/v1/catalog/service/web?tag=a&tag=b'))).toEqual(['n1', 'n3']);
    expect(nodesOf(await get(b, '/v1/health/service/web?tag=a&tag=b&passing'))).toEqual(['n1']);
    expect(nodesOf(await get(b, '/v1/health/service/web?tag=A'))).toEqual(['n1', 'n2', 'n3']);
  });

  it('?filter= on every catalog and health endpoint', async () => {
    const b = await catalog();
    const q = (s: string): string => encodeURIComponent(s);
    expect(nodesOf(await get(b, `/v1/catalog/nodes?filter=${q('Meta.env == prod and Meta.rack != a')}`))).toEqual(['n3']);
    expect(nodesOf(await get(b, `/v1/catalog/service/web?filter=${q('ServiceMeta.v == "81"')}`))).toEqual(['n2']);
    expect(nodesOf(await get(b, `/v1/health/service/web?filter=${q('Checks.Status == critical or "b" not in Service.Tags')}`))).toEqual(['n2', 'n3']);
    const node = (await get(b, `/v1/catalog/node/n1?filter=${q('Port == 1')}`)) as { Services: object };
    expect(node.Services).toEqual({});
    const checks = (await get(b, `/v1/health/state/any?filter=${q('Status == critical')}`)) as Array<{ CheckID: string }>;
    expect(checks.map((c) => c.CheckID)).toEqual(['service:w3']);
    expect(((await get(b, `/v1/health/checks/web?filter=${q('Node matches "^n[12]$"')}`)) as unknown[]).length).toBe(2);
    expect(await get(b, `/v1/catalog/services?filter=${q('NodeMeta.env == dev')}`)).toEqual({ web: ['a', 'b'] });
  });

  it('a bad expression is a 400 naming the problem, never ignored', async () => {
    const b = await catalog();
    for (const [url, want] of [
      ['/v1/health/service/web?filter=garbage', /expected an operator/],
      ['/v1/catalog/nodes?filter=Nope%20%3D%3D%201', /Selector "Nope" is not valid/],
      ['/v1/catalog/nodes?node-meta=:x', /Invalid node-meta/],
    ] as const) {
      const r = await b.handle(request('GET', url));
      expect(r.status, url).toBe(400);
      expect(bodyText(r)).toMatch(want);
    }
  });
});
