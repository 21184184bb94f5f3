// core/config/model.ts — the typed agent configuration every module reads.
//
// Owns: AgentConfig (flags + files, merged and validated, with Consul's defaults), and the
// typed ACL, TLS, DNS and watch sections. Field comments name the Consul key that sets each.
// Must never: parse or merge anything (flags.ts, decode.ts, merge.ts, build.ts do that).
import type { CheckDefinition, ServiceDefinition } from '../agent/definitions.ts';
import type { WatchDefinition } from './watches.ts';

export type LogLevelName = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERR';

export interface DnsSettings {
  /** dns_config.node_ttl, whole seconds (default 0). */
  nodeTtlS: number;
  /** dns_config.service_ttl: service name (or '*') → seconds. */
  serviceTtlS: Record<string, number>;
  /** dns_config.allow_stale (Consul ≥0.7.1 default true). */
  allowStale: boolean;
  /** dns_config.max_stale (default 87600h). */
  maxStaleMs: number;
  /** dns_config.only_passing (default false). */
  onlyPassing: boolean;
  /** dns_config.enable_truncate (default false). */
  enableTruncate: boolean;
  /** dns_config.udp_answer_limit (default 3). */
  udpAnswerLimit: number;
}

export interface TlsProtocolSettings {
  caFile: string;
  caPath: string;
  certFile: string;
  keyFile: string;
  /** '' = Consul's default (TLSv1_2). */
  tlsMinVersion: string;
  tlsCipherSuites: string;
  verifyIncoming: boolean;
  verifyOutgoing: boolean;
  verifyServerHostname: boolean;
}

/** tls { defaults, internal_rpc, https } with Consul's inheritance already applied: every
 *  field an interface block leaves unset comes from `defaults`. */
export interface TlsSettings {
  defaults: TlsProtocolSettings;
  internalRpc: TlsProtocolSettings;
  https: TlsProtocolSettings;
  /** server_name: the name servers present in their certificates. */
  serverName: string;
}

export interface AclSettings {
  /** acl.enabled (legacy: acl_datacenter set ⇒ enabled). */
  enabled: boolean;
  /** acl.default_policy: 'allow' | 'deny' (default allow). */
  defaultPolicy: 'allow' | 'deny';
  /** acl.down_policy (default extend-cache). */
  downPolicy: 'allow' | 'deny' | 'extend-cache' | 'async-cache';
  policyTtlMs: number;
  roleTtlMs: number;
  /** acl.token_ttl (legacy acl_ttl), default 30s. */
  tokenTtlMs: number;
  enableKeyListPolicy: boolean;
  enableTokenPersistence: boolean;
  enableTokenReplication: boolean;
  tokens: {
    /** acl.tokens.initial_management (legacy acl_master_token, acl.tokens.master). */
    initialManagement: string;
    agent: string;
    /** acl.tokens.agent_recovery (legacy acl_agent_master_token, acl.tokens.agent_master). */
    agentRecovery: string;
    /** acl.tokens.default (legacy acl_token). */
    default: string;
    replication: string;
    configFileServiceRegistration: string;
  };
}

export interface AgentConfig {
  server: boolean;
  bootstrap: boolean;
  /** 0 = not set. */
  bootstrapExpect: number;
  dataDir: string;
  nodeName: string;
  /** node_meta / -node-meta: key → value, on the node's catalog registration. */
  nodeMeta: Record<string, string>;
  /** Address gossip and RPC bind to (bind_addr / -bind). */
  bindAddr: string;
  /** advertise_addr / -advertise (defaults to bindAddr). */
  advertiseAddr: string;
  /** client_addr / -client: where HTTP and DNS listen unless addresses.* says otherwise. */
  clientAddr: string;
  /** addresses.{dns,http,https}; each defaults to clientAddr. */
  addresses: { dns: string; http: string; https: string };
  datacenter: string;
  /** primary_datacenter (legacy acl_datacenter); '' = this datacenter. */
  primaryDatacenter: string;
  /** -config-dir / -config-file paths, in command-line order. */
  configPaths: Array<{ kind: 'dir' | 'file'; path: string }>;
  /** The same paths split by flag (kept for callers that read them apart). */
  configDirs: string[];
  configFiles: string[];
  /** -config-format: '' = by extension. */
  configFormat: '' | 'json' | 'hcl';
  startJoin: string[];
  retryJoin: string[];
  retryIntervalMs: number;
  rejoinAfterLeave: boolean;
  ui: boolean;
  uiDir: string;
  logLevel: LogLevelName;
  /** domain / -domain, lowercase with a trailing dot (default 'consul.'). */
  domain: string;
  ports: { dns: number; http: number; https: number; rpc: number; serfLan: number; serfWan: number; server: number };
  /** Gossip key as given (base64), '' = none. Used only while no keyring exists in the data dir. */
  encrypt: string;
  /** Upstream DNS servers ('ip:port'). */
  recursors: string[];
  /** dns_config.recursor_timeout (2s). */
  recursorTimeoutMs: number;
  dns: DnsSettings;
  dev: boolean;
  /** SIGINT ⇒ graceful leave (= !skip_leave_on_interrupt; Consul 0.5 default: true for every agent). */
  leaveOnInterrupt: boolean;
  /** SIGTERM ⇒ graceful leave (leave_on_terminate; Consul 0.5 default: false). */
  leaveOnTerminate: boolean;
  /** reconnect_timeout (72h): how long a failed node is retried before it is reaped. */
  reconnectTimeoutMs: number;
  /** session_ttl_min (10s). */
  sessionTtlMinMs: number;
  /** performance.raft_multiplier: 0 = not set (Muster's own Raft timings). */
  raftMultiplier: number;
  /** enable_script_checks: script checks from any source (API included) may run. */
  enableScriptChecks: boolean;
  /** enable_local_script_checks: script checks from config files may run. */
  enableLocalScriptChecks: boolean;
  /** disable_remote_exec (Consul ≥0.8 default true). */
  disableRemoteExec: boolean;
  /** pid_file / -pid-file: '' = none. */
  pidFile: string;
  watches: WatchDefinition[];
  acl: AclSettings;
  tls: TlsSettings;
}

/** Everything the agent loads from flags and config files. */
export interface LoadedConfig {
  config: AgentConfig;
  services: ServiceDefinition[];
  checks: CheckDefinition[];
  /** Deprecations and adjustments worth a log line at start. */
  warnings: string[];
}
