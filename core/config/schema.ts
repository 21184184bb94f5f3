// core/config/schema.ts — every agent config key Muster knows: its type, its canonical path,
// and whether Muster honours it or refuses it (and why).
//
// Owns: the key table (Consul 1.x names, the 0.5-era spellings mapped onto them), per-key
// value checks that can be judged from the value alone, and the refusal reasons shown to users.
// Must never: read files or decide precedence; decode.ts applies this table to one file,
// merge.ts and build.ts combine files and flags.
//
// A refused key is a real Consul setting Muster does not implement. Setting it to Consul's
// default (`allow`) asks for nothing different and is accepted; any other value stops the agent
// with a one-line error naming the file, the key and the reason. A key that is not in this
// table is refused as Consul refuses it: `invalid config key`.

export type LeafType =
  | 'string'
  | 'bool'
  | 'int'
  | 'duration'
  | 'strings'
  | 'strmap'
  | 'durmap'
  | 'services'
  | 'checks'
  | 'watches'
  | 'any';

export interface Leaf {
  leaf: LeafType;
  min?: number;
  max?: number;
  /** A reason the value is wrong, judged from the value alone; null when fine. */
  check?: (v: unknown) => string | null;
  /** Deprecated spelling: the value goes to this canonical path unless the same file sets it. */
  to?: string;
  /** Warning printed at start when this (deprecated) key is used. */
  warn?: string;
  /** A Consul setting Muster does not implement, and why. */
  refused?: string;
  /** With `refused`: values that ask for nothing different (Consul's default) and are accepted. */
  allow?: readonly unknown[];
}

export interface Struct {
  fields: Schema;
  /** Refuse the whole block (every key in it) with this reason. */
  refused?: string;
}

export type Spec = Leaf | Struct;
export type Schema = Record<string, Spec>;

export const isStruct = (s: Spec): s is Struct => (s as Struct).fields !== undefined;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4Problem(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  if (/\{\{.*\}\}/.test(v)) return "go-sockaddr templates ({{ … }}) are not supported by Muster; give an IPv4 address";
  const m = IPV4.exec(v);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return `${JSON.stringify(v)} is not an IPv4 address (e.g. 10.0.0.5)`;
  return null;
}

/** client_addr / addresses.*: one IPv4 address (Consul also takes several, space-separated, and unix sockets). */
function clientAddrProblem(v: unknown): string | null {
  if (typeof v === 'string' && /^unix:\/\//.test(v)) return 'unix sockets are not supported by Muster; give an IPv4 address';
  if (typeof v === 'string' && /\s/.test(v.trim())) return 'several addresses are not supported by Muster; give one IPv4 address';
  return ipv4Problem(v);
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'err', 'error'];

const str = (check?: Leaf['check']): Leaf => ({ leaf: 'string', check });
const bool: Leaf = { leaf: 'bool' };
const port: Leaf = { leaf: 'int', min: -1, max: 65535 };
const refuse = (leaf: LeafType, reason: string, allow?: readonly unknown[]): Leaf => ({ leaf, refused: reason, allow });
const moved = (leaf: LeafType, to: string, old: string): Leaf => ({
  leaf,
  to,
  warn: `The '${old}' field is deprecated. Use the '${to}' field instead.`,
});

const NO_TELEMETRY = 'Muster sends no metrics to telemetry sinks (use /v1/agent/metrics)';
const NO_CONNECT = 'Consul Connect (service mesh) is not implemented by Muster';
const NO_WAN_EXTRAS = 'Muster runs one datacenter per cluster; WAN-specific settings are not implemented';

const TLS_PROTOCOL: Schema = {
  ca_file: str(),
  ca_path: str(),
  cert_file: str(),
  key_file: str(),
  tls_min_version: str((v) =>
    typeof v === 'string' && !/^TLSv1_[0-3]$/.test(v) ? `${JSON.stringify(v)} is not a TLS version (use TLSv1_2 or TLSv1_3)` : null,
  ),
  tls_cipher_suites: str(),
  verify_incoming: bool,
  verify_outgoing: bool,
  verify_server_hostname: bool,
  use_auto_cert: refuse('bool', 'auto-encrypt certificates are not implemented by Muster', [false]),
};

const POLICY = (what: string, allowed: string[]) => (v: unknown) =>
  typeof v === 'string' && !allowed.includes(v) ? `${JSON.stringify(v)} is not a valid ${what} (use ${allowed.join(', ')})` : null;

export const AGENT_SCHEMA: Schema = {
  // ---- identity and mode
  datacenter: str((v) =>
    typeof v === 'string' && !/^[A-Za-z0-9_-]+$/.test(v)
      ? `datacenter must be alpha-numeric with underscores and hyphens only, got ${JSON.stringify(v)}`
      : null,
  ),
  node_name: str((v) => (v === '' ? 'node_name must not be empty' : null)),
  node_meta: { leaf: 'strmap' },
  data_dir: str(),
  server: bool,
  bootstrap: bool,
  bootstrap_expect: { leaf: 'int', min: 0, max: 1000 },
  log_level: str((v) =>
    typeof v === 'string' && !LOG_LEVELS.includes(v.toLowerCase())
      ? `Invalid log level: ${v}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`
      : null,
  ),
  pid_file: str(),
  encrypt: str(),
  ui: bool,
  ui_dir: str(),
  ui_config: {
    fields: {
      enabled: { leaf: 'bool', to: 'ui' },
      dir: { leaf: 'string', to: 'ui_dir' },
      content_path: refuse('string', 'the UI is served only at /ui/', ['/ui/']),
      metrics_provider: refuse('string', 'UI metrics providers are not implemented by Muster'),
      metrics_proxy: refuse('any', 'UI metrics providers are not implemented by Muster'),
      dashboard_url_templates: refuse('any', 'UI dashboard links are not implemented by Muster'),
    },
  },

  // ---- addresses and ports
  bind_addr: str(ipv4Problem),
  advertise_addr: str(ipv4Problem),
  client_addr: str(clientAddrProblem),
  addresses: {
    fields: {
      dns: str(clientAddrProblem),
      http: str(clientAddrProblem),
      https: str(clientAddrProblem),
      grpc: refuse('string', 'gRPC is not implemented by Muster'),
      rpc: refuse('string', "the CLI RPC listener (0.5's port 8400) is not implemented; Muster's CLI talks HTTP like Consul 0.8+"),
    },
  },
  ports: {
    fields: {
      dns: port,
      http: port,
      https: port,
      serf_lan: { leaf: 'int', min: 1, max: 65535 },
      serf_wan: { leaf: 'int', min: 1, max: 65535 },
      server: { leaf: 'int', min: 1, max: 65535 },
      rpc: refuse('int', "the CLI RPC listener (0.5's port 8400) is not implemented; Muster's CLI talks HTTP like Consul 0.8+", [8400]),
      grpc: refuse('int', 'gRPC is not implemented by Muster', [-1, 0]),
      grpc_tls: refuse('int', 'gRPC is not implemented by Muster', [-1, 0]),
      proxy_min_port: refuse('int', NO_CONNECT),
      proxy_max_port: refuse('int', NO_CONNECT),
      sidecar_min_port: refuse('int', NO_CONNECT),
      sidecar_max_port: refuse('int', NO_CONNECT),
      expose_min_port: refuse('int', NO_CONNECT),
      expose_max_port: refuse('int', NO_CONNECT),
    },
  },

  // ---- cluster formation and leaving
  start_join: { leaf: 'strings' },
  retry_join: { leaf: 'strings' },
  retry_interval: { leaf: 'duration', min: 1 },
  retry_max: refuse('int', 'Muster retries -retry-join until it succeeds (retry_max is not implemented)', [0]),
  rejoin_after_leave: bool,
  leave_on_terminate: bool,
  skip_leave_on_interrupt: bool,
  reconnect_timeout: {
    leaf: 'duration',
    check: (v) => (typeof v === 'number' && v < 8 * 3_600_000 ? 'reconnect_timeout must be at least 8h (Consul refuses shorter)' : null),
  },
  start_join_wan: refuse('strings', NO_WAN_EXTRAS),
  retry_join_wan: refuse('strings', NO_WAN_EXTRAS),
  retry_interval_wan: refuse('duration', NO_WAN_EXTRAS),
  retry_max_wan: refuse('int', NO_WAN_EXTRAS, [0]),
  reconnect_timeout_wan: refuse('duration', NO_WAN_EXTRAS),
  advertise_addr_wan: refuse('string', NO_WAN_EXTRAS),
  translate_wan_addrs: refuse('bool', NO_WAN_EXTRAS, [false]),
  serf_lan: refuse('string', 'separate serf bind addresses are not implemented; gossip binds to bind_addr'),
  serf_wan: refuse('string', 'separate serf bind addresses are not implemented; gossip binds to bind_addr'),

  // ---- DNS
  domain: str((v) => (v === '' ? 'domain must not be empty (e.g. "consul")' : null)),
  recursors: { leaf: 'strings' },
  recursor: { leaf: 'string', to: 'recursors' },
  dns_config: {
    fields: {
      node_ttl: { leaf: 'duration' },
      service_ttl: { leaf: 'durmap' },
      allow_stale: bool,
      max_stale: { leaf: 'duration' },
      only_passing: bool,
      enable_truncate: bool,
      udp_answer_limit: { leaf: 'int', min: 1, max: 1024 },
      recursor_timeout: { leaf: 'duration', min: 1 },
      a_record_limit: refuse('int', 'a_record_limit is not implemented by Muster (udp_answer_limit is)', [0]),
      disable_compression: refuse('bool', 'Muster always compresses DNS names', [false]),
      enable_additional_node_meta_txt: refuse('bool', 'node meta TXT records are not implemented by Muster', [true]),
      soa: refuse('any', 'the SOA timers are fixed in Muster (refresh 3600, retry 600, expire 86400, min_ttl 0)'),
      use_cache: refuse('bool', 'the agent DNS cache is not implemented by Muster', [false]),
      cache_max_age: refuse('duration', 'the agent DNS cache is not implemented by Muster'),
      prefer_namespace: refuse('bool', 'namespaces are not implemented by Muster', [false]),
    },
  },
  alt_domain: refuse('string', 'alt_domain is not implemented by Muster (one domain per agent)'),

  // ---- services, checks, watches
  service: { leaf: 'services' },
  services: { leaf: 'services' },
  check: { leaf: 'checks' },
  checks: { leaf: 'checks' },
  watches: { leaf: 'watches' },
  enable_script_checks: bool,
  enable_local_script_checks: bool,
  disable_remote_exec: bool,

  // ---- sessions, raft
  session_ttl_min: { leaf: 'duration', min: 1 },
  performance: {
    fields: {
      raft_multiplier: { leaf: 'int', min: 1, max: 10 },
      leave_drain_time: refuse('duration', 'leave_drain_time is not implemented by Muster'),
      rpc_hold_timeout: refuse('duration', 'rpc_hold_timeout is not implemented by Muster'),
    },
  },

  // ---- ACL (typed here; the security module implements them)
  acl: {
    fields: {
      enabled: bool,
      default_policy: str(POLICY('ACL default policy', ['allow', 'deny'])),
      down_policy: str(POLICY('ACL down policy', ['allow', 'deny', 'extend-cache', 'async-cache'])),
      policy_ttl: { leaf: 'duration' },
      role_ttl: { leaf: 'duration' },
      token_ttl: { leaf: 'duration' },
      enable_key_list_policy: bool,
      enable_token_persistence: bool,
      enable_token_replication: bool,
      tokens: {
        fields: {
          initial_management: str(),
          master: moved('string', 'acl.tokens.initial_management', 'acl.tokens.master'),
          agent: str(),
          agent_recovery: str(),
          agent_master: moved('string', 'acl.tokens.agent_recovery', 'acl.tokens.agent_master'),
          default: str(),
          replication: str(),
          config_file_service_registration: str(),
        },
      },
    },
  },
  primary_datacenter: str(),
  acl_datacenter: moved('string', 'primary_datacenter', 'acl_datacenter'),
  acl_default_policy: moved('string', 'acl.default_policy', 'acl_default_policy'),
  acl_down_policy: moved('string', 'acl.down_policy', 'acl_down_policy'),
  acl_ttl: moved('duration', 'acl.token_ttl', 'acl_ttl'),
  acl_master_token: moved('string', 'acl.tokens.initial_management', 'acl_master_token'),
  acl_token: moved('string', 'acl.tokens.default', 'acl_token'),
  acl_agent_token: moved('string', 'acl.tokens.agent', 'acl_agent_token'),
  acl_agent_master_token: moved('string', 'acl.tokens.agent_recovery', 'acl_agent_master_token'),
  acl_replication_token: moved('string', 'acl.tokens.replication', 'acl_replication_token'),
  acl_enable_key_list_policy: moved('bool', 'acl.enable_key_list_policy', 'acl_enable_key_list_policy'),
  enable_acl_replication: moved('bool', 'acl.enable_token_replication', 'enable_acl_replication'),

  // ---- TLS (typed here; the security module implements them)
  tls: {
    fields: {
      defaults: { fields: TLS_PROTOCOL },
      internal_rpc: { fields: TLS_PROTOCOL },
      https: { fields: TLS_PROTOCOL },
      grpc: { fields: TLS_PROTOCOL, refused: 'gRPC is not implemented by Muster' },
    },
  },
  ca_file: moved('string', 'tls.defaults.ca_file', 'ca_file'),
  ca_path: moved('string', 'tls.defaults.ca_path', 'ca_path'),
  cert_file: moved('string', 'tls.defaults.cert_file', 'cert_file'),
  key_file: moved('string', 'tls.defaults.key_file', 'key_file'),
  tls_min_version: moved('string', 'tls.defaults.tls_min_version', 'tls_min_version'),
  tls_cipher_suites: moved('string', 'tls.defaults.tls_cipher_suites', 'tls_cipher_suites'),
  verify_incoming: moved('bool', 'tls.defaults.verify_incoming', 'verify_incoming'),
  verify_incoming_rpc: moved('bool', 'tls.internal_rpc.verify_incoming', 'verify_incoming_rpc'),
  verify_incoming_https: moved('bool', 'tls.https.verify_incoming', 'verify_incoming_https'),
  verify_outgoing: moved('bool', 'tls.defaults.verify_outgoing', 'verify_outgoing'),
  verify_server_hostname: moved('bool', 'tls.internal_rpc.verify_server_hostname', 'verify_server_hostname'),
  server_name: str(),

  // ---- honoured because Muster never does what they switch off
  disable_update_check: bool,
  disable_anonymous_signature: bool,

  // ---- Consul settings Muster does not implement
  enable_syslog: refuse('bool', 'syslog output is not implemented; Muster logs to stdout', [false]),
  syslog_facility: refuse('string', 'syslog output is not implemented; Muster logs to stdout'),
  log_file: refuse('string', 'log files are not implemented; Muster logs to stdout (redirect it)'),
  log_json: refuse('bool', 'JSON logs are not implemented by Muster', [false]),
  log_rotate_bytes: refuse('int', 'log files are not implemented by Muster'),
  log_rotate_duration: refuse('duration', 'log files are not implemented by Muster'),
  log_rotate_max_files: refuse('int', 'log files are not implemented by Muster'),
  enable_debug: refuse('bool', 'the /debug/pprof endpoints are not implemented by Muster', [false]),
  node_id: refuse('string', 'node IDs are not configurable in Muster'),
  disable_host_node_id: refuse('bool', 'node IDs are not configurable in Muster', [true]),
  protocol: refuse('int', 'Muster speaks one protocol version (2)', [2]),
  raft_protocol: refuse('int', 'Muster speaks one Raft protocol', [3]),
  raft_snapshot_threshold: refuse('int', 'Raft snapshot tuning is not configurable in Muster'),
  raft_snapshot_interval: refuse('duration', 'Raft snapshot tuning is not configurable in Muster'),
  raft_trailing_logs: refuse('int', 'Raft snapshot tuning is not configurable in Muster'),
  non_voting_server: refuse('bool', 'non-voting servers are not implemented by Muster', [false]),
  read_replica: refuse('bool', 'non-voting servers are not implemented by Muster', [false]),
  check_update_interval: refuse('duration', 'check output syncing is not configurable in Muster'),
  check_output_max_size: refuse('int', 'the check output cap is fixed at 4 KB in Muster', [4096]),
  discard_check_output: refuse('bool', 'discard_check_output is not implemented by Muster', [false]),
  default_query_time: refuse('duration', 'blocking query times are fixed in Muster (5m default, 10m max)'),
  max_query_time: refuse('duration', 'blocking query times are fixed in Muster (5m default, 10m max)'),
  disable_coordinates: refuse('bool', 'disable_coordinates is not implemented by Muster', [false]),
  disable_keyring_file: refuse('bool', 'Muster always keeps the gossip keyring in the data dir', [false]),
  encrypt_verify_incoming: refuse('bool', 'encryption rollout settings are not implemented by Muster', [true]),
  encrypt_verify_outgoing: refuse('bool', 'encryption rollout settings are not implemented by Muster', [true]),
  disable_http_unprintable_char_filter: refuse('bool', 'not implemented by Muster', [false]),
  enable_agent_tls_for_checks: refuse('bool', 'check TLS client certificates are not implemented by Muster', [false]),
  enable_central_service_config: refuse('bool', NO_CONNECT, [false]),
  tagged_addresses: refuse('strmap', 'tagged addresses are not implemented by Muster'),
  statsd_addr: refuse('string', NO_TELEMETRY),
  statsite_addr: refuse('string', NO_TELEMETRY),
  statsite_prefix: refuse('string', NO_TELEMETRY),
  dogstatsd_addr: refuse('string', NO_TELEMETRY),
  telemetry: { fields: {}, refused: NO_TELEMETRY },
  connect: { fields: {}, refused: NO_CONNECT },
  auto_encrypt: { fields: {}, refused: 'auto-encrypt is not implemented by Muster' },
  auto_config: { fields: {}, refused: 'auto-config is not implemented by Muster' },
  config_entries: { fields: {}, refused: 'config entries are not implemented by Muster' },
  autopilot: { fields: {}, refused: 'autopilot settings are not configurable in Muster' },
  gossip_lan: { fields: {}, refused: 'gossip timings are fixed in Muster (Consul LAN defaults)' },
  gossip_wan: { fields: {}, refused: 'gossip timings are fixed in Muster (Consul WAN defaults)' },
  segments: refuse('any', 'network segments are not implemented by Muster'),
  segment: refuse('string', 'network segments are not implemented by Muster'),
  limits: { fields: {}, refused: 'rate limits are not implemented by Muster' },
  http_config: { fields: {}, refused: 'HTTP response headers and endpoint blocking are not implemented by Muster' },
  unix_sockets: { fields: {}, refused: 'unix sockets are not implemented by Muster' },
  snapshot_agent: refuse('any', 'the snapshot agent is part of Consul Enterprise'),
  license_path: refuse('string', 'Muster has no enterprise license'),
  cloud: { fields: {}, refused: 'HCP cloud linking is not implemented by Muster' },
  peering: { fields: {}, refused: 'cluster peering is not implemented by Muster' },
  xds: { fields: {}, refused: NO_CONNECT },
  primary_gateways: refuse('strings', NO_WAN_EXTRAS),
  acl_enforce_version_8: refuse('bool', 'pre-1.0 ACL enforcement switches are gone (Consul ignores this too)', [true, false]),
};
