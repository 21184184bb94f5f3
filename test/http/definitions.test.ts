import { describe, expect, it } from 'vitest';
import { DefinitionError, parseCheckRegistration, parseServiceRegistration } from '../../core/agent/definitions.ts';
import { load, loadError } from '../config/helpers.ts';

/** One config file in a -config-dir: its definitions (and warnings). */
function parseConfigFile(name: string, text: string) {
  const r = load({ [name]: text }, ['-enable-script-checks']);
  return { services: r.services, checks: r.checks, warnings: r.warnings };
}
const D = '/etc/muster.d/';

// The walkthrough's web3.json, verbatim (minus the article's "//web3.json" caption).
const WEB3 = `{
  "service": {
    "name": "web3",
    "tags": ["master"],
    "address": "127.0.0.1",
    "port": 10000,
    "checks": [
      {
        "http": "http://localhost:10000/health",
        "interval": "10s"
      }
    ]
  }
}`;

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    return (e as Error).message;
  }
  throw new Error('expected a DefinitionError');
}

describe('config files', () => {
  it("parses the walkthrough's web3.json with Consul's defaults", () => {
    const { services, checks } = parseConfigFile('web3.json', WEB3);
    expect(checks).toEqual([]);
    expect(services).toEqual([
      {
        id: 'web3',
        name: 'web3',
        tags: ['master'],
        address: '127.0.0.1',
        port: 10000,
        meta: {},
        enableTagOverride: false,
        weights: { passing: 1, warning: 1 },
        checks: [
          {
            id: 'service:web3',
            name: "Service 'web3' check",
            notes: '',
            serviceId: 'web3',
            status: 'critical',
            probe: { type: 'http', url: 'http://localhost:10000/health', method: 'GET', header: {}, tlsSkipVerify: false, intervalMs: 10_000, timeoutMs: 10_000 },
            deregisterCriticalServiceAfterMs: 0,
          },
        ],
      },
    ]);
  });

  it('numbers several service checks service:<id>:<n> from 1; timeouts default to min(interval, 10s)', () => {
    const { services } = parseConfigFile(
      'db.json',
      JSON.stringify({
        service: {
          name: 'db',
          id: 'db1',
          checks: [
            { tcp: 'localhost:5432', interval: '30s' },
            { ttl: '15s', notes: 'app heartbeat', status: 'passing' },
            { args: ['/bin/check', '-q'], interval: '5s' },
            { http: 'http://localhost/', interval: '2s', timeout: '1s', deregister_critical_service_after: '90m' },
          ],
        },
      }),
    );
    const c = services[0]!.checks;
    expect(c.map((x) => x.id)).toEqual(['service:db1:1', 'service:db1:2', 'service:db1:3', 'service:db1:4']);
    expect(c[0]!.probe).toEqual({ type: 'tcp', address: 'localhost:5432', intervalMs: 30_000, timeoutMs: 10_000 });
    expect(c[1]).toMatchObject({ status: 'passing', notes: 'app heartbeat', probe: { type: 'ttl', ttlMs: 15_000 } });
    expect(c[2]!.probe).toEqual({ type: 'script', args: ['/bin/check', '-q'], intervalMs: 5000, timeoutMs: 30_000 });
    expect(c[3]).toMatchObject({ probe: { timeoutMs: 1000, intervalMs: 2000 }, deregisterCriticalServiceAfterMs: 5_400_000 });
  });

  it('reads services, check and checks next to agent config keys', () => {
    const defs = parseConfigFile(
      'all.json',
      JSON.stringify({
        datacenter: 'dc1',
        services: [{ name: 'a' }, { name: 'b', port: 1 }],
        check: { name: 'mem', script: 'free -m', interval: '10s' },
        checks: [{ id: 'disk', name: 'Disk', ttl: '1m', service_id: 'a' }],
      }),
    );
    expect(defs.services.map((s) => s.id)).toEqual(['a', 'b']);
    expect(defs.checks.map((c) => [c.id, c.name, c.serviceId])).toEqual([
      ['mem', 'mem', ''],
      ['disk', 'Disk', 'a'],
    ]);
    expect(defs.checks[0]!.probe).toMatchObject({ type: 'script', args: ['/bin/sh', '-c', 'free -m'] });
  });

  it('errors name the file, line:col, the field and the reason', () => {
    const err = (name: string, text: string): string => loadError({ [name]: text });
    const bad = WEB3.replace('"10s"', '"10x"');
    expect(err('web3.json', bad)).toBe(`${D}web3.json:10:21: service.checks[0].interval: "10x" is not a duration (use e.g. "10s")`);
    expect(err('a.json', '{"service": {"port": 1}}')).toBe(`${D}a.json:1:13: service.name: required (a service needs a name)`);
    expect(err('a.json', '{"service": {"name": "x", "port": 70000}}')).toContain(`${D}a.json:1:35: service.port: must be a whole number 0-65535`);
    expect(err('a.json', '{"service": {"name": "x", "tags": "master"}}')).toBe(`${D}a.json:1:35: service.tags: must be a list of strings, got "master"`);
    expect(err('a.json', '{"service": {"name": "x", "check": {"http": "http://a/"}}}')).toBe(
      `${D}a.json:1:36: service.check.interval: required for http checks (e.g. "interval": "10s")`,
    );
    expect(err('a.json', '{"service": {"name": "x", "check": {"interval": "10s"}}}')).toBe(
      `${D}a.json:1:36: service.check: must set one of http, tcp, ttl or script/args`,
    );
    expect(err('a.json', '{"service": {"name": "x", "check": {"http": "http://a/", "ttl": "5s", "interval": "1s"}}}')).toContain('sets http and ttl');
    expect(err('a.json', '{"service": {"name": "x", "check": {"tcp": "nohost", "interval": "1s"}}}')).toBe(
      `${D}a.json:1:44: service.check.tcp: "nohost" is not host:port`,
    );
    expect(err('a.json', '{"service": {"name": "x", "check": {"ttl": "5s", "status": "ok"}}}')).toBe(
      `${D}a.json:1:60: service.check.status: "ok" is not a status (use passing, warning or critical)`,
    );
    expect(err('a.json', '{"service": {"name": "x", "prot": 1}}')).toMatch(/^\/etc\/muster\.d\/a\.json:1:35: service\.prot: unknown service field \(known: .*port/);
    expect(err('a.json', '{"check": {"name": "g", "grpc": "a:1", "interval": "1s"}}')).toContain('grpc checks are not supported');
    expect(err('a.json', '{"check": {"ttl": "1s"}}')).toBe(`${D}a.json:1:11: check.name: required (a check needs a name)`);
    expect(err('a.json', '{"services": [{"name": "a"}, {"name": "a"}]}')).toBe(
      `${D}a.json:1:30: services[1]: duplicate service id "a" (also at ${D}a.json:1:15)`,
    );
    expect(err('a.json', '[]')).toBe(`${D}a.json:1:1: invalid JSON: the file must hold a JSON object ({ … }) at the top level`);
    expect(err('a.json', '{"service": {"name": "x",\n  "meta": {"bad key": "v"}}}')).toContain('service.meta.bad key');
  });

  it('invalid JSON reports line and column', () => {
    const msg = loadError({ 'web3.json': '{\n  "service": {\n    "name": "web3",\n  }\n}' });
    expect(msg).toMatch(/^\/etc\/muster\.d\/web3\.json:4:3: invalid JSON: trailing comma before '}'/);
  });

  it('intervals below 1s are raised to 1s with a warning', () => {
    const defs = parseConfigFile('a.json', '{"check": {"name": "fast", "tcp": "a:1", "interval": "100ms"}}');
    expect(defs.checks[0]!.probe).toMatchObject({ intervalMs: 1000 });
    expect(defs.warnings).toEqual([`${D}a.json: check 'fast' has interval below minimum of 1s; using 1s`]);
  });

  it('duplicate ids across files name both files', () => {
    expect(loadError({ 'a.json': '{"service": {"name": "web"}}', 'b.json': '{"service": {"name": "web"}}' })).toBe(
      `${D}b.json:1:13: service: duplicate service id "web" (also at ${D}a.json:1:13)`,
    );
  });
});

describe('HTTP registrations', () => {
  it('CamelCase bodies as node-consul and the Go api send them', () => {
    const { def } = parseServiceRegistration({
      ID: 'redis1',
      Name: 'redis',
      Tags: ['primary'],
      Address: '127.0.0.1',
      Port: 8000,
      Meta: { redis_version: '4.0' },
      EnableTagOverride: true,
      Weights: { Passing: 10, Warning: 1 },
      Check: { HTTP: 'http://localhost:5000/health', Interval: '10s', DeregisterCriticalServiceAfter: '90m' },
      Connect: { Native: false },
    });
    expect(def).toMatchObject({ id: 'redis1', name: 'redis', meta: { redis_version: '4.0' }, enableTagOverride: true, weights: { passing: 10, warning: 1 } });
    expect(def.checks[0]).toMatchObject({ id: 'service:redis1', probe: { type: 'http', timeoutMs: 10_000 }, deregisterCriticalServiceAfterMs: 5_400_000 });
  });

  it('Checks array, explicit CheckID, and nanosecond numbers for durations', () => {
    const { def } = parseServiceRegistration({ Name: 'x', Checks: [{ CheckID: 'mine', TTL: 15e9 }, { TTL: '1s' }] });
    expect(def.checks.map((c) => c.id)).toEqual(['mine', 'service:x:2']);
    expect(def.checks[0]!.probe).toEqual({ type: 'ttl', ttlMs: 15_000 });
  });

  it('unknown fields are ignored in HTTP bodies (clients send newer fields)', () => {
    expect(parseServiceRegistration({ Name: 'x', SomethingNew: 1 }).def.name).toBe('x');
  });

  it('check registration: ID defaults to Name; ServiceID kept', () => {
    const { def } = parseCheckRegistration({ Name: 'mem', ServiceID: 'redis1', TTL: '30s' });
    expect(def).toMatchObject({ id: 'mem', name: 'mem', serviceId: 'redis1' });
    expect(() => parseCheckRegistration({ ID: 'x', TTL: '30s' })).toThrow('name: required');
  });
});
