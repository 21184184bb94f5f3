// core/agent/config.ts — `consul agent` flags, parsed the way Consul parses them.
//
// Owns: the AgentConfig record and turning argv into it (or into a usage error).
// Must never: read files or the environment; the process layer reads -config-dir files and
// hands their text to core/agent/definitions.ts.
//
import { parseGoDuration } from '../http/duration.ts';
import { fromBase64 } from '../catalog/base64.ts';

// Flags accept one or two dashes and both `-flag value` and `-flag=value`, like Go's flag
// package. Boolean flags take no value (`-server`) or an explicit `-server=true|false`.

export interface AgentConfig {
  server: boolean;
  bootstrap: boolean;
  /** 0 = not set. */
  bootstrapExpect: number;
  dataDir: string;
  nodeName: string;
  /** Address gossip and RPC bind to and advertise (the walkthrough's -bind). */
  bindAddr: string;
  advertiseAddr: string;
  /** Address the HTTP and DNS interfaces listen on. */
  clientAddr: string;
  datacenter: string;
  configDirs: string[];
  configFiles: string[];
  startJoin: string[];
  retryJoin: string[];
  retryIntervalMs: number;
  rejoinAfterLeave: boolean;
  ui: boolean;
  uiDir: string;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERR';
  domain: string;
  ports: { dns: number; http: number; https: number; rpc: number; serfLan: number; serfWan: number; server: number };
  /** Gossip key as given (base64), '' = none. Used only while no keyring exists in the data dir
   *  (core/agent/keyring.ts); validated at parse time. */
  encrypt: string;
  /** Upstream DNS servers ('ip:port', port 53 when not given) for names outside the domain. */
  recursors: string[];
  /** How long one recursor may take before the next is tried (Consul's recursor_timeout, 2s). */
  recursorTimeoutMs: number;
  dev: boolean;
  /** SIGINT ⇒ graceful leave (Consul 0.5 default: true for every agent). */
  leaveOnInterrupt: boolean;
  /** SIGTERM ⇒ graceful leave (Consul 0.5 default: false). */
  leaveOnTerminate: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const AGENT_USAGE = `Usage: consul agent [options]

  Starts the Consul agent and runs until an interrupt is received. The
  agent represents a single node in a cluster.

Options:

  -advertise=addr          Sets the advertise address to use
  -bootstrap               Sets server to bootstrap mode
  -bind=0.0.0.0            Sets the bind address for cluster communication
  -bootstrap-expect=0      Sets server to expect bootstrap mode.
  -client=127.0.0.1        Sets the address to bind for client access.
                           This includes RPC, DNS, HTTP and HTTPS (if configured)
  -config-file=foo         Path to a JSON file to read configuration from.
                           This can be specified multiple times.
  -config-dir=foo          Path to a directory to read configuration files
                           from. This will read every file ending in ".json"
                           as configuration in this directory in alphabetical
                           order. This can be specified multiple times.
  -data-dir=path           Path to a data directory to store agent state
  -dev                     Starts the agent in development mode.
  -dc=east-aws             Datacenter of the agent (alias: -datacenter)
  -dns-port=8600           DNS port to use
  -encrypt=key             Provides the gossip encryption key
  -http-port=8500          HTTP API port to use
  -join=1.2.3.4            Address of an agent to join at start time.
                           Can be specified multiple times.
  -retry-join=1.2.3.4      Address of an agent to join at start time with
                           retries enabled. Can be specified multiple times.
  -retry-interval=30s      Time to wait between join attempts.
  -log-level=info          Log level of the agent.
  -node=hostname           Name of this node. Must be unique in the cluster
  -recursor=1.2.3.4        Address of an upstream DNS server.
                           Can be specified multiple times.
  -rejoin                  Ignores a previous leave and attempts to rejoin the cluster.
  -server                  Switches agent to server mode.
  -ui                      Enables the built-in static web UI server
  -ui-dir=path             Path to directory containing the Web UI resources
`;

type FlagKind = 'bool' | 'string' | 'int' | 'list' | 'duration';

const FLAGS: Record<string, { kind: FlagKind; key: string }> = {
  server: { kind: 'bool', key: 'server' },
  bootstrap: { kind: 'bool', key: 'bootstrap' },
  'bootstrap-expect': { kind: 'int', key: 'bootstrapExpect' },
  'data-dir': { kind: 'string', key: 'dataDir' },
  node: { kind: 'string', key: 'nodeName' },
  bind: { kind: 'string', key: 'bindAddr' },
  advertise: { kind: 'string', key: 'advertiseAddr' },
  client: { kind: 'string', key: 'clientAddr' },
  dc: { kind: 'string', key: 'datacenter' },
  datacenter: { kind: 'string', key: 'datacenter' },
  'config-dir': { kind: 'list', key: 'configDirs' },
  'config-file': { kind: 'list', key: 'configFiles' },
  join: { kind: 'list', key: 'startJoin' },
  'retry-join': { kind: 'list', key: 'retryJoin' },
  'retry-interval': { kind: 'duration', key: 'retryIntervalMs' },
  rejoin: { kind: 'bool', key: 'rejoinAfterLeave' },
  ui: { kind: 'bool', key: 'ui' },
  'ui-dir': { kind: 'string', key: 'uiDir' },
  'log-level': { kind: 'string', key: 'logLevel' },
  'dns-port': { kind: 'int', key: 'dns' },
  'http-port': { kind: 'int', key: 'http' },
  encrypt: { kind: 'string', key: 'encrypt' },
  recursor: { kind: 'list', key: 'recursors' },
  dev: { kind: 'bool', key: 'dev' },
  domain: { kind: 'string', key: 'domain' },
};

const LOG_LEVELS: Record<string, AgentConfig['logLevel']> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  err: 'ERR',
  error: 'ERR',
};

export function defaultAgentConfig(hostName: string): AgentConfig {
  return {
    server: false,
    bootstrap: false,
    bootstrapExpect: 0,
    dataDir: '',
    nodeName: hostName,
    bindAddr: '0.0.0.0',
    advertiseAddr: '',
    clientAddr: '127.0.0.1',
    datacenter: 'dc1',
    configDirs: [],
    configFiles: [],
    startJoin: [],
    retryJoin: [],
    retryIntervalMs: 30_000,
    rejoinAfterLeave: false,
    ui: false,
    uiDir: '',
    logLevel: 'INFO',
    domain: 'consul.',
    ports: { dns: 8600, http: 8500, https: -1, rpc: 8400, serfLan: 8301, serfWan: 8302, server: 8300 },
    encrypt: '',
    recursors: [],
    recursorTimeoutMs: 2_000,
    dev: false,
    leaveOnInterrupt: true,
    leaveOnTerminate: false,
  };
}

/**
 * Parse `consul agent` arguments (without the leading 'agent').
 * Throws UsageError with Consul's wording for unknown flags, bad values and a missing -data-dir.
 */
export function parseAgentArgs(args: string[], hostName: string): AgentConfig {
  const cfg = defaultAgentConfig(hostName);
  const rec = cfg as unknown as Record<string, unknown>;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new UsageError(`unexpected argument '${arg}'; agent takes only flags`);
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    const flag = FLAGS[name];
    if (!flag) throw new UsageError(`flag provided but not defined: -${name}`);
    if (flag.kind === 'bool') {
      if (value === undefined) value = 'true';
      if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') {
        throw new UsageError(`invalid boolean value "${value}" for -${name}`);
      }
      rec[flag.key] = value === 'true' || value === '1';
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    }
    switch (flag.kind) {
      case 'string':
        rec[flag.key] = value;
        break;
      case 'list':
        (rec[flag.key] as string[]).push(value);
        break;
      case 'int': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
          throw new UsageError(`invalid value "${value}" for flag -${name}: not a whole number`);
        }
        if (flag.key === 'dns' || flag.key === 'http') {
          if (n < 1 || n > 65535) throw new UsageError(`invalid value "${value}" for flag -${name}: port must be 1-65535`);
          cfg.ports[flag.key] = n;
        } else rec[flag.key] = n;
        break;
      }
      case 'duration': {
        const ms = parseGoDuration(value);
        if (ms === null) throw new UsageError(`invalid value "${value}" for flag -${name}: not a duration (use e.g. 30s)`);
        rec[flag.key] = ms;
        break;
      }
    }
  }
  const lvl = LOG_LEVELS[String(cfg.logLevel).toLowerCase()];
  if (!lvl) throw new UsageError(`Invalid log level: ${cfg.logLevel}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`);
  cfg.logLevel = lvl;
  if (cfg.dev) {
    cfg.server = true;
    cfg.bootstrap = true;
    if (!cfg.dataDir) cfg.dataDir = '/muster-dev';
    cfg.ui = true;
  }
  if (!cfg.dataDir) throw new UsageError('Must specify data directory using -data-dir');
  if (cfg.bootstrap && cfg.bootstrapExpect > 0) {
    throw new UsageError('Bootstrap cannot be provided with an expected server count');
  }
  if (cfg.bootstrapExpect > 0 && !cfg.server) {
    throw new UsageError('Expect mode is only valid for servers (use -server)');
  }
  if (cfg.bootstrapExpect === 1) {
    cfg.bootstrap = true;
    cfg.bootstrapExpect = 0;
  }
  if (!/^[A-Za-z0-9_-]+$/.test(cfg.datacenter)) {
    throw new UsageError(`Datacenter must be alpha-numeric with underscores and hypens only, got '${cfg.datacenter}'`);
  }
  if (!cfg.domain.endsWith('.')) cfg.domain += '.';
  if (cfg.encrypt !== '') decodeGossipKey(cfg.encrypt);
  cfg.recursors = cfg.recursors.map(normalizeRecursor);
  if (!cfg.advertiseAddr) cfg.advertiseAddr = cfg.bindAddr;
  return cfg;
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
