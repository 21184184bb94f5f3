// test/config/model.test.ts — the agent configuration model: every setting group from JSON and
// HCL files, Consul's merge order and precedence, refusals, and hostile files.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { load, loadError, MemDisk } from './helpers.ts';
import { loadAgentConfig } from '../../core/config/load.ts';
import { ConfigError } from '../../core/config/tree.ts';
import { UsageError } from '../../core/config/flags.ts';

const D = '/etc/muster.d/';

const ACCEPTANCE_HCL = `
datacenter = "east"
domain     = "muster"
node_name  = "edge1"
dns_config {
  node_ttl         = "30s"
  service_ttl      = { "*" = "5s", "web" = "15s" }
  allow_stale      = false
  max_stale        = "10s"
  only_passing     = true
  enable_truncate  = true
  udp_answer_limit = 5
}
node_meta {
  rack = "r1"
  env  = "prod"
}
watches = [
  { type = "key", key = "app/flag", handler = "cat >> /tmp/out" },
]
service {
  name = "web"
  port = 8080
  tags = ["v1"]
  check {
    http     = "http://127.0.0.1:8080/health"
    interval = "10s"
  }
}
`;

describe('settings from an HCL file in -config-dir', () => {
  it('datacenter, domain, dns_config, node_meta, a watch, a service with a check', () => {
    const { config, services } = load({ 'agent.hcl': ACCEPTANCE_HCL });
    expect(config).toMatchObject({ datacenter: 'east', domain: 'muster.', nodeName: 'edge1', nodeMeta: { env: 'prod', rack: 'r1' } });
    expect(config.dns).toEqual({
      nodeTtlS: 30, serviceTtlS: { '*': 5, web: 15 }, allowStale: false, maxStaleMs: 10_000, onlyPassing: true, enableTruncate: true, udpAnswerLimit: 5,
    });
    expect(config.watches).toEqual([
      expect.objectContaining({ type: 'key', key: 'app/flag', handler: { kind: 'script', args: ['/bin/sh', '-c', 'cat >> /tmp/out'] } }),
    ]);
    expect(services).toEqual([
      expect.objectContaining({ id: 'web', port: 8080, tags: ['v1'], checks: [expect.objectContaining({ id: 'service:web', probe: expect.objectContaining({ type: 'http', intervalMs: 10_000 }) })] }),
    ]);
  });

  it('the same settings in JSON give the same model', () => {
    const json = {
      datacenter: 'east', domain: 'muster', node_name: 'edge1',
      dns_config: { node_ttl: '30s', service_ttl: { '*': '5s', web: '15s' }, allow_stale: false, max_stale: '10s', only_passing: true, enable_truncate: true, udp_answer_limit: 5 },
      node_meta: { rack: 'r1', env: 'prod' },
      watches: [{ type: 'key', key: 'app/flag', handler: 'cat >> /tmp/out' }],
      service: { name: 'web', port: 8080, tags: ['v1'], check: { http: 'http://127.0.0.1:8080/health', interval: '10s' } },
    };
    const a = load({ 'agent.hcl': ACCEPTANCE_HCL });
    const b = load({ 'agent.json': JSON.stringify(json) });
    const strip = (c: typeof a) => ({ ...c.config, watches: c.config.watches.map((w) => ({ ...w, origin: '' })) });
    expect(strip(b)).toEqual(strip(a));
    expect(b.services[0]!.checks[0]!.id).toBe('service:web');
  });

  it('identity, mode, addresses, ports, joins, leave, timers, pid file, ACL and TLS', () => {
    const { config } = load({
      'a.hcl': `
        server = true
        bootstrap_expect = 3
        data_dir = "/var/muster"
        log_level = "debug"
        bind_addr = "10.0.0.5"
        advertise_addr = "10.0.0.6"
        client_addr = "127.0.0.9"
        addresses { http = "127.0.0.10" }
        ports { dns = 53, http = 8501, https = 8443, serf_lan = 9301, serf_wan = 9302, server = 9300 }
        retry_join = ["10.0.0.1"]
        start_join = ["10.0.0.2"]
        retry_interval = "5s"
        rejoin_after_leave = true
        leave_on_terminate = true
        skip_leave_on_interrupt = true
        recursors = ["8.8.8.8"]
        encrypt = "pUqJrVyVRj5jsiYEkM/tFQ=="
        ui = true
        enable_script_checks = true
        disable_remote_exec = false
        session_ttl_min = "30s"
        reconnect_timeout = "8h"
        performance { raft_multiplier = 1 }
        pid_file = "/run/muster.pid"
        acl { enabled = true, default_policy = "deny", down_policy = "extend-cache", tokens { initial_management = "root" } }
        tls { defaults { ca_file = "/ca.pem", verify_incoming = true } https { verify_incoming = false } }
      `,
    });
    expect(config).toMatchObject({
      server: true, bootstrapExpect: 3, dataDir: '/data' /* the -data-dir flag wins over the file */, logLevel: 'DEBUG', bindAddr: '10.0.0.5', advertiseAddr: '10.0.0.6',
      clientAddr: '127.0.0.9', addresses: { dns: '127.0.0.9', http: '127.0.0.10', https: '127.0.0.9' },
      ports: { dns: 53, http: 8501, https: 8443, serfLan: 9301, serfWan: 9302, server: 9300 },
      retryJoin: ['10.0.0.1'], startJoin: ['10.0.0.2'], retryIntervalMs: 5000, rejoinAfterLeave: true,
      leaveOnTerminate: true, leaveOnInterrupt: false, recursors: ['8.8.8.8:53'], ui: true, enableScriptChecks: true,
      disableRemoteExec: false, sessionTtlMinMs: 30_000, reconnectTimeoutMs: 8 * 3_600_000, raftMultiplier: 1, pidFile: '/run/muster.pid',
    });
    expect(config.acl).toMatchObject({ enabled: true, defaultPolicy: 'deny', tokens: { initialManagement: 'root' } });
    expect(config.tls.defaults).toMatchObject({ caFile: '/ca.pem', verifyIncoming: true });
    expect(config.tls.internalRpc).toMatchObject({ caFile: '/ca.pem', verifyIncoming: true });
    expect(config.tls.https).toMatchObject({ caFile: '/ca.pem', verifyIncoming: false });
  });

  it("0.5-era keys map onto today's (acl_datacenter enables ACLs, recursor adds to recursors, ca_file → tls.defaults)", () => {
    const r = load({ 'old.json': JSON.stringify({ acl_datacenter: 'dc1', acl_master_token: 'm', acl_default_policy: 'deny', acl_ttl: '45s', recursor: '1.1.1.1', ca_file: '/c', verify_outgoing: true }) });
    expect(r.config.acl).toMatchObject({ enabled: true, defaultPolicy: 'deny', tokenTtlMs: 45_000, tokens: { initialManagement: 'm' } });
    expect(r.config.primaryDatacenter).toBe('dc1');
    expect(r.config.recursors).toEqual(['1.1.1.1:53']);
    expect(r.config.tls.defaults).toMatchObject({ caFile: '/c', verifyOutgoing: true });
    expect(r.warnings).toContain(`${D}old.json: The 'acl_datacenter' field is deprecated. Use the 'primary_datacenter' field instead.`);
  });
});

describe("merge order and precedence (Consul's rules)", () => {
  it('later files override scalars, lists append, maps are replaced whole, blocks merge key by key', () => {
    const { config } = load({
      '10-a.json': JSON.stringify({ datacenter: 'a', retry_join: ['1.1.1.1'], node_meta: { x: '1', y: '2' }, ports: { dns: 8601 } }),
      '20-b.hcl': 'datacenter = "b"\nretry_join = ["2.2.2.2"]\nnode_meta { z = "3" }\nports { http = 8502 }',
    });
    expect(config.datacenter).toBe('b');
    expect(config.retryJoin).toEqual(['1.1.1.1', '2.2.2.2']);
    expect(config.nodeMeta).toEqual({ z: '3' });
    expect(config.ports).toMatchObject({ dns: 8601, http: 8502 });
  });

  it('files are read in lexical order; flags win over files; list flags come first', () => {
    const { config } = load({ 'b.json': '{"datacenter": "fromb"}', 'a.json': '{"datacenter": "froma", "retry_join": ["9.9.9.9"]}' }, ['-retry-join=8.8.8.8']);
    expect(config.datacenter).toBe('fromb');
    expect(config.retryJoin).toEqual(['8.8.8.8', '9.9.9.9']);
    expect(load({ 'a.json': '{"datacenter": "file"}' }, ['-dc=flag']).config.datacenter).toBe('flag');
  });

  it('-config-file and -config-dir are read in command-line order; -hcl comes last', () => {
    const disk = new MemDisk({ '/x.json': '{"node_name": "x"}', '/d/y.hcl': 'node_name = "y"' });
    expect(loadAgentConfig(['-data-dir=/a', '-config-dir=/d', '-config-file=/x.json'], 'h', disk).config.nodeName).toBe('x');
    expect(loadAgentConfig(['-data-dir=/a', '-config-file=/x.json', '-config-dir=/d'], 'h', disk).config.nodeName).toBe('y');
    expect(loadAgentConfig(['-data-dir=/a', '-config-file=/x.json', '-node=f', '-hcl', 'node_name = "s"'], 'h', disk).config.nodeName).toBe('s');
  });

  it('a dir: *.json and *.hcl only, no subdirectories, other files skipped with a warning', () => {
    const disk = new MemDisk({ '/d/a.json': '{"node_name": "a"}', '/d/sub/z.json': '{"node_name": "z"}', '/d/notes.txt': 'hello' });
    const r = loadAgentConfig(['-data-dir=/a', '-config-dir=/d'], 'h', disk);
    expect(r.config.nodeName).toBe('a');
    expect(r.warnings).toEqual(['skipping file /d/notes.txt, extension must be .hcl or .json, or config format must be set']);
    expect(() => loadAgentConfig(['-data-dir=/a', '-config-file=/d/notes.txt'], 'h', disk)).toThrow('/d/notes.txt: file has unknown extension');
    expect(loadAgentConfig(['-data-dir=/a', '-config-format=json', '-config-dir=/d'], 'h', new MemDisk({ '/d/x.conf': '{"node_name": "c"}' })).config.nodeName).toBe('c');
  });
});

describe('refused or wrong settings: one line naming the file, the key and why', () => {
  it.each([
    ['{"datacentre": "x"}', `${D}a.json:1:2: datacentre: invalid config key (did you mean datacenter?)`],
    ['{"enable_syslog": true}', `${D}a.json:1:2: enable_syslog: not supported: syslog output is not implemented; Muster logs to stdout`],
    ['{"ports": {"dns": "53"}}', `${D}a.json:1:19: ports.dns: must be a whole number, got the string "53"`],
    ['{"ports": {"grpc": 8502}}', `${D}a.json:1:12: ports.grpc: not supported: gRPC is not implemented by Muster`],
    ['{"dns_config": {"node_ttl": "soon"}}', `${D}a.json:1:29: dns_config.node_ttl: "soon" is not a duration (use e.g. "10s", "1m30s", "72h")`],
    ['{"bind_addr": "10.0.0.300"}', `${D}a.json:1:15: bind_addr: "10.0.0.300" is not an IPv4 address (e.g. 10.0.0.5)`],
    ['{"log_level": "loud"}', `${D}a.json:1:15: log_level: Invalid log level: loud. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`],
    ['{"reconnect_timeout": "1h"}', `${D}a.json:1:23: reconnect_timeout: reconnect_timeout must be at least 8h (Consul refuses shorter)`],
    ['{"node_meta": {"consul-x": "1"}}', `${D}a.json:1:2: node_meta: node_meta key "consul-x" is reserved for internal use (keys may not start with "consul-")`],
    ['{"watches": [{"type": "kye"}]}', `${D}a.json:1:23: watches[0].type: unknown watch type "kye" (use key, keyprefix, services, nodes, service, checks, event)`],
    ['{"check": {"name": "s", "args": ["true"], "interval": "5s"}}', `${D}a.json:1:11: check: Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true`],
    ['{"acl": {"default_policy": "maybe"}}', `${D}a.json:1:28: acl.default_policy: "maybe" is not a valid ACL default policy (use allow, deny)`],
    ['{"telemetry": {"statsd_address": "x"}}', `${D}a.json:1:2: telemetry: not supported: Muster sends no metrics to telemetry sinks (use /v1/agent/metrics)`],
    ['{"bootstrap": true, "bootstrap_expect": 3, "server": true}', `${D}a.json:1:21: bootstrap_expect: Bootstrap cannot be provided with an expected server count`],
  ])('%s', (text, message) => {
    expect(loadError({ 'a.json': text })).toBe(message);
  });

  it('HCL: set twice, repeated singular block, label on a setting', () => {
    expect(loadError({ 'a.hcl': 'datacenter = "a"\ndatacenter = "b"' })).toBe(`${D}a.hcl:2:1: datacenter: set twice in this file (also at line 1, column 1); set it once`);
    expect(loadError({ 'a.hcl': 'ports { dns = 1 }\nports { http = 2 }' })).toContain('ports: set twice in this file');
    expect(loadError({ 'a.hcl': 'ports "x" { dns = 1 }' })).toBe(`${D}a.hcl:1:7: ports: this block takes no label (remove "x")`);
    expect(load({ 'a.hcl': 'service { name = "a" }\nservice { name = "b" }' }).services.map((s) => s.id)).toEqual(['a', 'b']);
  });

  it('a setting at its Consul default asks for nothing different and is accepted', () => {
    expect(load({ 'a.json': '{"enable_syslog": false, "ports": {"grpc": -1}, "disable_update_check": true}' }).config.nodeName).toBe('host1');
  });

  it('flag problems stay usage errors with Consul wording', () => {
    expect(() => load({}, ['-log-level=loud'])).toThrow(UsageError);
    expect(() => load({}, ['-pid-file'])).toThrow('flag needs an argument: -pid-file');
    expect(load({}, ['-pid-file=/run/p', '-node-meta=a:b', '-node-meta=c:d']).config).toMatchObject({ pidFile: '/run/p', nodeMeta: { a: 'b', c: 'd' } });
  });
});

describe('hostile config files never crash the loader', () => {
  const keys = ['datacenter', 'ports', 'dns', 'service', 'checks', 'watches', 'node_meta', 'acl', 'tls', 'x', 'retry_join', 'dns_config', 'udp_answer_limit'];
  const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double(),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...keys), tie('v'), { maxKeys: 4 }),
    ),
  })).v;
  const ok = (f: () => unknown): void => {
    try {
      f();
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof UsageError)) throw err;
      expect(err.message).not.toMatch(/[\n\r]/);
      if (err instanceof ConfigError) expect(err.message).toMatch(/^\/etc\/muster\.d\/f\.(json|hcl)(:\d+:\d+)?: /);
    }
  };
  it('random JSON documents: a config or one ConfigError line', () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 5 }), (doc) => ok(() => load({ 'f.json': JSON.stringify(doc) }))), { numRuns: 1500, seed: 15 });
  });
  it('random HCL token soup: a config or one ConfigError line', () => {
    const toks = fc.constantFrom('service', 'ports', 'dns', '{', '}', '=', '"x"', '1', '[', ']', ',', 'true', '\n', 'check', 'name', 'http', '"http://a/"', 'interval', '"1s"', 'watches', 'type');
    fc.assert(fc.property(fc.array(toks, { maxLength: 40 }), (a) => ok(() => load({ 'f.hcl': a.join(' ') }))), { numRuns: 1500, seed: 15 });
  });
});
