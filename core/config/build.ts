// core/config/build.ts — merged settings → the validated AgentConfig, with Consul's defaults.
//
// Owns: defaults (Consul's, and 0.5's leave-on-signal behaviour the walkthrough relies on),
// -dev's defaults, checks that involve several keys (bootstrap vs bootstrap_expect, expect
// without server, a data dir), value checks for flag input (files were checked on decode),
// normalisation (domain, recursors, log level, ports ≤ 0 ⇒ disabled), TLS inheritance from
// tls.defaults, and refusing script checks from files unless the agent enables them.
// Every error names where the offending value came from (file:line:col and key, or the flag).
// Must never: read files; load.ts hands it fragments.
import { fromBase64 } from '../catalog/base64.ts';
import { normalizeDomain } from '../dns/config.ts';
import type { CheckDefinition, ServiceDefinition } from '../agent/definitions.ts';
import { ConfigError } from './tree.ts';
import { originText, type Fragment, type Origin, type Setting } from './decode.ts';
import { UsageError } from './flags.ts';
import { ipv4Problem } from './schema.ts';
import type { AclSettings, AgentConfig, LoadedConfig, LogLevelName, TlsProtocolSettings } from './model.ts';
import type { WatchDefinition } from './watches.ts';

const LOG_LEVELS: Record<string, LogLevelName> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', err: 'ERR', error: 'ERR' };
const HOUR_MS = 3_600_000;

/** An error at the place a setting came from: a UsageError for a flag, a ConfigError for a file. */
export function problemAt(origin: Origin | undefined, reason: string): Error {
  if (!origin || origin.file === 'command line') return new UsageError(reason);
  return new ConfigError(origin.file, origin.pos, origin.key, reason);
}

export interface BuildInput {
  merged: Fragment;
  hostName: string;
  dev: boolean;
  configPaths: AgentConfig['configPaths'];
  configFormat: AgentConfig['configFormat'];
  warnings: string[];
}

class Reader {
  constructor(private readonly f: Fragment) {}

  setting(path: string): Setting | undefined {
    return this.f.get(path);
  }

  origin(path: string): Origin | undefined {
    const s = this.f.get(path);
    if (!s) return undefined;
    return s.kind === 'list' ? s.items[0]?.origin : s.origin;
  }

  scalar(path: string, dflt: string): string;
  scalar(path: string, dflt: number): number;
  scalar(path: string, dflt: boolean): boolean;
  scalar(path: string, dflt: string | number | boolean): string | number | boolean {
    const s = this.f.get(path);
    return s?.kind === 'scalar' ? s.value : dflt;
  }

  list(path: string): Array<{ value: unknown; origin: Origin }> {
    const s = this.f.get(path);
    return s?.kind === 'list' ? s.items : [];
  }

  map(path: string): Record<string, unknown> {
    const s = this.f.get(path);
    return s?.kind === 'map' ? s.value : {};
  }
}

export function buildConfig(input: BuildInput): LoadedConfig {
  const r = new Reader(input.merged);
  const fail = (path: string, reason: string): never => {
    throw problemAt(r.origin(path), reason);
  };
  const warnings = [...input.warnings];

  // Flags were type-checked but not value-checked; files were both. Check what flags can set.
  for (const path of ['bind_addr', 'advertise_addr']) {
    const why = ipv4Problem(r.scalar(path, '0.0.0.0'));
    if (why && r.scalar(path, '') !== '') fail(path, why);
  }
  const clientAddr = r.scalar('client_addr', '127.0.0.1');
  const clientWhy = ipv4Problem(clientAddr);
  if (clientWhy) fail('client_addr', clientWhy);

  const levelText = r.scalar('log_level', 'info');
  const logLevel = LOG_LEVELS[levelText.toLowerCase()];
  if (!logLevel) fail('log_level', `Invalid log level: ${levelText}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`);

  const datacenter = r.scalar('datacenter', 'dc1');
  if (!/^[A-Za-z0-9_-]+$/.test(datacenter)) {
    fail('datacenter', `Datacenter must be alpha-numeric with underscores and hypens only, got '${datacenter}'`);
  }

  let domain = r.scalar('domain', 'consul.');
  try {
    domain = normalizeDomain(domain);
  } catch (err) {
    fail('domain', (err as Error).message);
  }

  const server = r.scalar('server', input.dev);
  let bootstrap = r.scalar('bootstrap', input.dev);
  let bootstrapExpect = r.scalar('bootstrap_expect', 0);
  const dataDir = r.scalar('data_dir', input.dev ? '/muster-dev' : '');
  if (!dataDir) throw new UsageError('Must specify data directory using -data-dir');
  if (bootstrap && bootstrapExpect > 0) fail('bootstrap_expect', 'Bootstrap cannot be provided with an expected server count');
  if (bootstrapExpect > 0 && !server) fail('bootstrap_expect', 'Expect mode is only valid for servers (use -server)');
  if (bootstrapExpect === 1) {
    bootstrap = true;
    bootstrapExpect = 0;
  }

  const encrypt = r.scalar('encrypt', '');
  if (encrypt !== '') {
    try {
      decodeGossipKey(encrypt);
    } catch (err) {
      fail('encrypt', (err as Error).message);
    }
  }
  const recursors = r.list('recursors').map((item) => {
    try {
      return normalizeRecursor(String(item.value));
    } catch (err) {
      throw problemAt(item.origin, (err as Error).message);
    }
  });

  const portOf = (path: string, dflt: number): number => {
    const p = r.scalar(path, dflt);
    if (p > 65535) fail(path, `port ${p} is not 1-65535`);
    return p <= 0 ? -1 : p;
  };

  const nodeMeta = validateNodeMeta(r.map('node_meta'), r.origin('node_meta'));

  const bindAddr = r.scalar('bind_addr', '0.0.0.0');
  const advertiseAddr = r.scalar('advertise_addr', '') || bindAddr;
  const addr = (path: string): string => r.scalar(path, '') || clientAddr;

  const dnsServiceTtl: Record<string, number> = {};
  for (const [name, ms] of Object.entries(r.map('dns_config.service_ttl'))) dnsServiceTtl[name] = Math.floor((ms as number) / 1000);

  const enableScriptChecks = r.scalar('enable_script_checks', false);
  const enableLocalScriptChecks = r.scalar('enable_local_script_checks', false);

  const { services, checks } = buildDefinitions(input.merged, enableScriptChecks || enableLocalScriptChecks);

  const ms = (path: string, dflt: number): number => r.scalar(path, dflt);

  const config: AgentConfig = {
    server,
    bootstrap,
    bootstrapExpect,
    dataDir,
    nodeName: r.scalar('node_name', input.hostName),
    nodeMeta,
    bindAddr,
    advertiseAddr,
    clientAddr,
    addresses: { dns: addr('addresses.dns'), http: addr('addresses.http'), https: addr('addresses.https') },
    datacenter,
    primaryDatacenter: r.scalar('primary_datacenter', ''),
    configPaths: input.configPaths,
    configDirs: input.configPaths.filter((p) => p.kind === 'dir').map((p) => p.path),
    configFiles: input.configPaths.filter((p) => p.kind === 'file').map((p) => p.path),
    configFormat: input.configFormat,
    startJoin: r.list('start_join').map((i) => String(i.value)),
    retryJoin: r.list('retry_join').map((i) => String(i.value)),
    retryIntervalMs: ms('retry_interval', 30_000),
    rejoinAfterLeave: r.scalar('rejoin_after_leave', false),
    ui: r.scalar('ui', input.dev),
    uiDir: r.scalar('ui_dir', ''),
    logLevel: logLevel!,
    domain,
    ports: {
      dns: portOf('ports.dns', 8600),
      http: portOf('ports.http', 8500),
      https: portOf('ports.https', -1),
      rpc: 8400,
      serfLan: r.scalar('ports.serf_lan', 8301),
      serfWan: r.scalar('ports.serf_wan', 8302),
      server: r.scalar('ports.server', 8300),
    },
    encrypt,
    recursors,
    recursorTimeoutMs: ms('dns_config.recursor_timeout', 2_000),
    dns: {
      nodeTtlS: Math.floor(ms('dns_config.node_ttl', 0) / 1000),
      serviceTtlS: dnsServiceTtl,
      allowStale: r.scalar('dns_config.allow_stale', true),
      maxStaleMs: ms('dns_config.max_stale', 87_600 * HOUR_MS),
      onlyPassing: r.scalar('dns_config.only_passing', false),
      enableTruncate: r.scalar('dns_config.enable_truncate', false),
      udpAnswerLimit: r.scalar('dns_config.udp_answer_limit', 3),
    },
    dev: input.dev,
    leaveOnInterrupt: !r.scalar('skip_leave_on_interrupt', false),
    leaveOnTerminate: r.scalar('leave_on_terminate', false),
    reconnectTimeoutMs: ms('reconnect_timeout', 72 * HOUR_MS),
    sessionTtlMinMs: ms('session_ttl_min', 10_000),
    raftMultiplier: r.scalar('performance.raft_multiplier', 0),
    enableScriptChecks,
    enableLocalScriptChecks,
    disableRemoteExec: r.scalar('disable_remote_exec', true),
    pidFile: r.scalar('pid_file', ''),
    watches: r.list('watches').map((i) => i.value as WatchDefinition),
    acl: buildAcl(r),
    tls: buildTls(r),
  };
  return { config, services, checks, warnings };
}

/**
 * The service and check definitions of merged sources: ids unique across every file, and
 * script checks refused unless `scriptsAllowed` (enable_script_checks / enable_local_script_checks).
 */
export function buildDefinitions(merged: Fragment, scriptsAllowed: boolean): { services: ServiceDefinition[]; checks: CheckDefinition[] } {
  const r = new Reader(merged);
  const services: ServiceDefinition[] = [];
  const checks: CheckDefinition[] = [];
  const svcFrom = new Map<string, string>();
  const chkFrom = new Map<string, string>();
  const addCheck = (c: CheckDefinition, origin: Origin): void => {
    const prev = chkFrom.get(c.id);
    if (prev !== undefined) throw problemAt(origin, `duplicate check id ${JSON.stringify(c.id)} (also at ${prev})`);
    chkFrom.set(c.id, originText(origin));
    if (c.probe.type === 'script' && !scriptsAllowed) {
      throw problemAt(origin, "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true");
    }
  };
  for (const item of r.list('services')) {
    const s = item.value as ServiceDefinition;
    const prev = svcFrom.get(s.id);
    if (prev !== undefined) throw problemAt(item.origin, `duplicate service id ${JSON.stringify(s.id)} (also at ${prev})`);
    svcFrom.set(s.id, originText(item.origin));
    for (const c of s.checks) addCheck(c, item.origin);
    services.push(s);
  }
  for (const item of r.list('checks')) {
    const c = item.value as CheckDefinition;
    addCheck(c, item.origin);
    checks.push(c);
  }

  return { services, checks };
}

function buildAcl(r: Reader): AclSettings {
  const s = (p: string, d = ''): string => r.scalar(`acl.${p}`, d);
  const ttl = (p: string): number => r.scalar(`acl.${p}`, 30_000);
  return {
    enabled: r.scalar('acl.enabled', false),
    defaultPolicy: s('default_policy', 'allow') as AclSettings['defaultPolicy'],
    downPolicy: s('down_policy', 'extend-cache') as AclSettings['downPolicy'],
    policyTtlMs: ttl('policy_ttl'),
    roleTtlMs: ttl('role_ttl'),
    tokenTtlMs: ttl('token_ttl'),
    enableKeyListPolicy: r.scalar('acl.enable_key_list_policy', false),
    enableTokenPersistence: r.scalar('acl.enable_token_persistence', false),
    enableTokenReplication: r.scalar('acl.enable_token_replication', false),
    tokens: {
      initialManagement: s('tokens.initial_management'),
      agent: s('tokens.agent'),
      agentRecovery: s('tokens.agent_recovery'),
      default: s('tokens.default'),
      replication: s('tokens.replication'),
      configFileServiceRegistration: s('tokens.config_file_service_registration'),
    },
  };
}

function buildTls(r: Reader): AgentConfig['tls'] {
  const block = (name: string, base: TlsProtocolSettings | null): TlsProtocolSettings => {
    const s = (k: string): string => r.scalar(`tls.${name}.${k}`, base ? (base[camel(k) as keyof TlsProtocolSettings] as string) : '');
    const b = (k: string): boolean => r.scalar(`tls.${name}.${k}`, base ? (base[camel(k) as keyof TlsProtocolSettings] as boolean) : false);
    return {
      caFile: s('ca_file'),
      caPath: s('ca_path'),
      certFile: s('cert_file'),
      keyFile: s('key_file'),
      tlsMinVersion: s('tls_min_version'),
      tlsCipherSuites: s('tls_cipher_suites'),
      verifyIncoming: b('verify_incoming'),
      verifyOutgoing: b('verify_outgoing'),
      verifyServerHostname: b('verify_server_hostname'),
    };
  };
  const defaults = block('defaults', null);
  return { defaults, internalRpc: block('internal_rpc', defaults), https: block('https', defaults), serverName: r.scalar('server_name', '') };
}

const camel = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Consul's node_meta rules: ≤64 pairs, keys [A-Za-z0-9_-] ≤128, values ≤512, 'consul-' reserved. */
function validateNodeMeta(meta: Record<string, unknown>, origin: Origin | undefined): Record<string, string> {
  const keys = Object.keys(meta);
  if (keys.length > 64) throw problemAt(origin, `node_meta has ${keys.length} pairs; at most 64 are allowed`);
  const out: Record<string, string> = {};
  for (const k of keys.sort()) {
    const v = String(meta[k]);
    if (!/^[A-Za-z0-9_-]+$/.test(k)) throw problemAt(origin, `node_meta key ${JSON.stringify(k)} may contain only letters, digits, "_" and "-"`);
    if (k.length > 128) throw problemAt(origin, `node_meta key ${JSON.stringify(k.slice(0, 20))}… is longer than 128 characters`);
    if (k.startsWith('consul-')) throw problemAt(origin, `node_meta key ${JSON.stringify(k)} is reserved for internal use (keys may not start with "consul-")`);
    if (v.length > 512) throw problemAt(origin, `node_meta value for ${JSON.stringify(k)} is longer than 512 characters`);
    out[k] = v;
  }
  return out;
}

/** Decode a gossip key (Consul's -encrypt / keyring entry): base64 of 16, 24 or 32 bytes. */
export function decodeGossipKey(text: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = fromBase64(text.trim());
  } catch (err) {
    throw new UsageError(
      `Invalid encryption key: ${(err as Error).message}; the key must be base64 of 16 bytes (generate one with 'muster keygen')`,
    );
  }
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new UsageError(
      `Invalid encryption key: it decodes to ${key.length} bytes; key size must be 16, 24 or 32 bytes (generate one with 'muster keygen')`,
    );
  }
  return key;
}

/** 'ip' or 'ip:port' → 'ip:port' (port 53 by default), or a UsageError saying what is wrong. */
export function normalizeRecursor(addr: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d{1,5}))?$/.exec(addr.trim());
  const bad = (why: string): UsageError =>
    new UsageError(`Invalid recursor address '${addr}': ${why}; use an IPv4 address with an optional port, e.g. -recursor=8.8.8.8 or -recursor=127.0.0.1:5353`);
  if (!m) throw bad('not ip or ip:port');
  for (let i = 1; i <= 4; i++) if (Number(m[i]) > 255) throw bad(`octet ${m[i]} is over 255`);
  const port = m[5] === undefined ? 53 : Number(m[5]);
  if (port < 1 || port > 65535) throw bad(`port ${port} is not 1-65535`);
  return `${m[1]}.${m[2]}.${m[3]}.${m[4]}:${port}`;
}

