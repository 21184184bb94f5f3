// core/config/flags.ts — `consul agent` flags, parsed the way Consul parses them, as a config
// source like any file.
//
// Owns: the flag table (each flag names the config key it sets), Go-flag syntax (one or two
// dashes, `-f v` and `-f=v`, bare booleans), UsageError, the usage text, and the split Consul
// makes: list-valued flags are merged BEFORE the files (so they come first in the list) and
// all other flags AFTER them (so they win).
// Must never: read files or the environment.
import { parseGoDuration } from '../http/duration.ts';
import type { Fragment, Origin, Setting } from './decode.ts';

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
  -config-file=foo         Path to a JSON or HCL file to read configuration from.
                           This can be specified multiple times.
  -config-dir=foo          Path to a directory to read configuration files
                           from. This will read every file ending in ".json"
                           or ".hcl" as configuration in this directory in
                           alphabetical order. This can be specified multiple times.
  -config-format=json|hcl  Read every config file in this format, whatever its extension.
  -data-dir=path           Path to a data directory to store agent state
  -dev                     Starts the agent in development mode.
  -dc=east-aws             Datacenter of the agent (alias: -datacenter)
  -dns-port=8600           DNS port to use
  -domain=consul           Domain to use for DNS interface.
  -enable-script-checks    Enables health check scripts.
  -enable-local-script-checks  Enables health check scripts from config files only.
  -encrypt=key             Provides the gossip encryption key
  -hcl='key = "value"'     A snippet of HCL config, applied after the files.
  -http-port=8500          HTTP API port to use
  -https-port=-1           HTTPS API port to use (-1 disables it)
  -join=1.2.3.4            Address of an agent to join at start time.
                           Can be specified multiple times.
  -retry-join=1.2.3.4      Address of an agent to join at start time with
                           retries enabled. Can be specified multiple times.
  -retry-interval=30s      Time to wait between join attempts.
  -log-level=info          Log level of the agent.
  -node=hostname           Name of this node. Must be unique in the cluster
  -node-meta=key:value     An arbitrary metadata key/value pair for this node.
                           Can be specified multiple times.
  -pid-file=path           Path to file to store agent PID
  -recursor=1.2.3.4        Address of an upstream DNS server.
                           Can be specified multiple times.
  -rejoin                  Ignores a previous leave and attempts to rejoin the cluster.
  -serf-lan-port=8301      Port for LAN gossip
  -serf-wan-port=8302      Port for WAN gossip
  -server                  Switches agent to server mode.
  -server-port=8300        Port for server RPC
  -ui                      Enables the built-in static web UI server
  -ui-dir=path             Path to directory containing the Web UI resources
`;

type FlagKind = 'bool' | 'string' | 'int' | 'port' | 'list' | 'duration' | 'meta';

/** Flag → the config key (canonical path) it sets. */
const FLAGS: Record<string, { kind: FlagKind; path: string }> = {
  server: { kind: 'bool', path: 'server' },
  bootstrap: { kind: 'bool', path: 'bootstrap' },
  'bootstrap-expect': { kind: 'int', path: 'bootstrap_expect' },
  'data-dir': { kind: 'string', path: 'data_dir' },
  node: { kind: 'string', path: 'node_name' },
  'node-meta': { kind: 'meta', path: 'node_meta' },
  bind: { kind: 'string', path: 'bind_addr' },
  advertise: { kind: 'string', path: 'advertise_addr' },
  client: { kind: 'string', path: 'client_addr' },
  dc: { kind: 'string', path: 'datacenter' },
  datacenter: { kind: 'string', path: 'datacenter' },
  join: { kind: 'list', path: 'start_join' },
  'retry-join': { kind: 'list', path: 'retry_join' },
  'retry-interval': { kind: 'duration', path: 'retry_interval' },
  rejoin: { kind: 'bool', path: 'rejoin_after_leave' },
  ui: { kind: 'bool', path: 'ui' },
  'ui-dir': { kind: 'string', path: 'ui_dir' },
  'log-level': { kind: 'string', path: 'log_level' },
  'dns-port': { kind: 'port', path: 'ports.dns' },
  'http-port': { kind: 'port', path: 'ports.http' },
  'https-port': { kind: 'int', path: 'ports.https' },
  'serf-lan-port': { kind: 'port', path: 'ports.serf_lan' },
  'serf-wan-port': { kind: 'port', path: 'ports.serf_wan' },
  'server-port': { kind: 'port', path: 'ports.server' },
  encrypt: { kind: 'string', path: 'encrypt' },
  recursor: { kind: 'list', path: 'recursors' },
  domain: { kind: 'string', path: 'domain' },
  'pid-file': { kind: 'string', path: 'pid_file' },
  'enable-script-checks': { kind: 'bool', path: 'enable_script_checks' },
  'enable-local-script-checks': { kind: 'bool', path: 'enable_local_script_checks' },
  'disable-host-node-id': { kind: 'bool', path: '' },
  // Handled apart: they say where config comes from, not what it is.
  'config-dir': { kind: 'list', path: '' },
  'config-file': { kind: 'list', path: '' },
  'config-format': { kind: 'string', path: '' },
  hcl: { kind: 'list', path: '' },
  dev: { kind: 'bool', path: '' },
};

export interface ParsedFlags {
  /** List-valued flags: merged before the config files (Consul prepends them). */
  head: Fragment;
  /** Every other flag: merged after the files, so flags win. */
  tail: Fragment;
  /** -config-dir / -config-file in command-line order. */
  configPaths: Array<{ kind: 'dir' | 'file'; path: string }>;
  configFormat: '' | 'json' | 'hcl';
  /** -hcl snippets, applied after the flags (Consul's order). */
  hcl: string[];
  dev: boolean;
}

/** Parse `consul agent` arguments (without the leading 'agent'). Throws UsageError. */
export function parseFlags(args: string[]): ParsedFlags {
  const out: ParsedFlags = { head: new Map(), tail: new Map(), configPaths: [], configFormat: '', hcl: [], dev: false };
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
    const origin: Origin = { file: 'command line', pos: null, key: `-${name}` };
    if (flag.kind === 'bool') {
      if (value === undefined) value = 'true';
      if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') {
        throw new UsageError(`invalid boolean value "${value}" for -${name}`);
      }
      const b = value === 'true' || value === '1';
      if (name === 'dev') out.dev = b;
      else if (name === 'disable-host-node-id') continue; // Muster has no host-derived node IDs to disable.
      else out.tail.set(flag.path, { kind: 'scalar', value: b, origin });
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    }
    switch (name) {
      case 'config-dir':
      case 'config-file':
        out.configPaths.push({ kind: name === 'config-dir' ? 'dir' : 'file', path: value });
        continue;
      case 'config-format':
        if (value !== 'json' && value !== 'hcl') throw new UsageError(`-config-format must be either 'hcl' or 'json', got '${value}'`);
        out.configFormat = value;
        continue;
      case 'hcl':
        out.hcl.push(value);
        continue;
    }
    switch (flag.kind) {
      case 'string':
        out.tail.set(flag.path, { kind: 'scalar', value, origin });
        break;
      case 'list':
        appendList(out.head, flag.path, value, origin);
        break;
      case 'meta': {
        const colon = value.indexOf(':');
        if (colon <= 0) throw new UsageError(`invalid value "${value}" for flag -node-meta: use key:value (e.g. -node-meta=rack:a1)`);
        const prev = out.tail.get(flag.path);
        const map = prev?.kind === 'map' ? prev.value : {};
        out.tail.set(flag.path, { kind: 'map', value: { ...map, [value.slice(0, colon)]: value.slice(colon + 1) }, origin });
        break;
      }
      case 'int':
      case 'port': {
        const n = Number(value);
        if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || (flag.kind === 'port' && n < 0)) {
          throw new UsageError(`invalid value "${value}" for flag -${name}: not a whole number`);
        }
        if (flag.kind === 'port' && (n < 1 || n > 65535)) {
          throw new UsageError(`invalid value "${value}" for flag -${name}: port must be 1-65535`);
        }
        if (name === 'bootstrap-expect' && n < 0) throw new UsageError(`invalid value "${value}" for flag -${name}: not a whole number`);
        out.tail.set(flag.path, { kind: 'scalar', value: n, origin });
        break;
      }
      case 'duration': {
        const ms = parseGoDuration(value);
        if (ms === null) throw new UsageError(`invalid value "${value}" for flag -${name}: not a duration (use e.g. 30s)`);
        out.tail.set(flag.path, { kind: 'scalar', value: ms, origin });
        break;
      }
    }
  }
  return out;
}

function appendList(f: Fragment, path: string, value: string, origin: Origin): void {
  const prev: Setting | undefined = f.get(path);
  const items = prev?.kind === 'list' ? prev.items : [];
  f.set(path, { kind: 'list', items: [...items, { value, origin }] });
}
