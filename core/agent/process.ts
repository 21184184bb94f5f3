// core/agent/process.ts — `consul agent` as a process: flags, config files, banner, host loop.
//
// Owns: everything between argv and a running Agent inside a Host: parsing flags, reading
// -config-dir / -config-file definitions through the disk port, printing Consul's banner,
// binding the gossip/RPC ports and the client-facing HTTP and DNS servers, and carrying out
// the agent's own effects (HTTP/DNS replies, DNS recursion, probes, exit), and the gossip
// keyrings (-encrypt) that decide which ports the host seals.
// Must never: depend on which world it runs in. sim/ and transports/ both call this with
// their Ports; that is what makes the walkthrough replay the same code as a real agent.
import type { Ports } from '../runtime/ports.ts';
import { Host } from '../runtime/host.ts';
import type { Rng } from '../rng.ts';
import { wireCodec } from '../codec/wire.ts';
import { AGENT_USAGE, UsageError, parseAgentArgs, type AgentConfig } from './config.ts';
import { Agent, type AgentBugs, type AgentEffect, type AgentInput, type Definitions } from './agent.ts';
import type { RuntimeFacts } from './stats.ts';
import { loadDefinitions } from './load-definitions.ts';
import type { RaftConfig } from '../raft/types.ts';
import { KeyringError, setupKeyrings, type KeyringSetup } from './keyring.ts';
import { forwardToRecursors } from './recursor.ts';
import type { HostEncryption } from '../runtime/host.ts';

export interface AgentProcessOptions {
  ports: Ports;
  argv: string[];
  hostName: string;
  rng: Rng;
  runtime: RuntimeFacts;
  stdout(line: string): void;
  exit(code: number): void;
  raftOverrides?: Partial<RaftConfig>;
  /** Wall-clock ms of machine time 0, for /v1/agent/monitor line stamps (sim: its epoch). */
  logEpochMs?: number;
  bugs?: AgentBugs;
}

export interface AgentProcess {
  agent: Agent;
  host: Host<unknown, AgentEffect>;
  config: AgentConfig;
  signal(sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void;
}

/** `gossipEncrypted`: a keyring is in use (it may exist without -encrypt). */
export function bannerLines(cfg: AgentConfig, gossipEncrypted = cfg.encrypt !== ''): string[] {
  const lines: string[] = [];
  if (cfg.bootstrapExpect > 0) lines.push(`==> WARNING: Expect Mode enabled, expecting ${cfg.bootstrapExpect} servers`);
  if (cfg.bootstrap && cfg.server) lines.push('==> WARNING: Bootstrap mode enabled! Do not enable unless necessary');
  if (cfg.dev) lines.push('==> WARNING: Dev mode enabled! Data will not be kept across restarts.');
  lines.push('==> Starting Consul agent...');
  lines.push('==> Starting Consul agent RPC...');
  lines.push('==> Consul agent running!');
  lines.push(`         Node name: '${cfg.nodeName}'`);
  lines.push(`        Datacenter: '${cfg.datacenter}'`);
  lines.push(`            Server: ${cfg.server} (bootstrap: ${cfg.bootstrap})`);
  lines.push(
    `       Client Addr: ${cfg.clientAddr} (HTTP: ${cfg.ports.http}, HTTPS: ${cfg.ports.https}, DNS: ${cfg.ports.dns}, RPC: ${cfg.ports.rpc})`,
  );
  lines.push(`      Cluster Addr: ${cfg.advertiseAddr} (LAN: ${cfg.ports.serfLan}, WAN: ${cfg.ports.serfWan})`);
  lines.push(`    Gossip encrypt: ${gossipEncrypted}, RPC-TLS: false, TLS-Incoming: false`);
  lines.push('             Atlas: <disabled>');
  lines.push('');
  lines.push('==> Log data will now stream in as it occurs:');
  lines.push('');
  return lines;
}

/**
 * Start an agent. Returns null when it could not start; then it has already printed the
 * reason and called exit(1) — a bad flag, a bad config file, unreadable Raft data.
 */
export function startAgentProcess(opts: AgentProcessOptions): AgentProcess | null {
  const { ports } = opts;
  let cfg: AgentConfig;
  try {
    cfg = parseAgentArgs(opts.argv, opts.hostName);
    if (cfg.bindAddr === '0.0.0.0') {
      cfg.bindAddr = ports.net.ip;
      cfg.advertiseAddr = ports.net.ip;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      opts.stdout(`==> ${err.message}`);
      opts.stdout(AGENT_USAGE.trimEnd());
      opts.exit(1);
      return null;
    }
    throw err;
  }
  if (cfg.advertiseAddr !== ports.net.ip) {
    opts.stdout(
      `==> Error starting agent: Failed to start Consul server: bind address ${cfg.advertiseAddr} is not an address of this host (${ports.net.ip})`,
    );
    opts.exit(1);
    return null;
  }

  let definitions: Definitions;
  try {
    definitions = loadDefinitions(ports.disk, cfg.configDirs, cfg.configFiles);
  } catch (err) {
    opts.stdout(`==> Error loading config: ${(err as Error).message}`);
    opts.exit(1);
    return null;
  }

  const dataDir = cfg.dataDir.replace(/\/+$/, '');
  let keyrings: KeyringSetup;
  try {
    keyrings = setupKeyrings(cfg.encrypt, cfg.server, (p) => ports.disk.read(`${dataDir}/${p}`));
    if ((keyrings.lan.keys.length > 0 || keyrings.wan.keys.length > 0) && !ports.crypto) {
      throw new KeyringError('gossip encryption is not available in this world (no crypto port)');
    }
    for (const w of keyrings.writes) ports.disk.writeAtomic(`${dataDir}/${w.path}`, w.data, true);
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    opts.stdout(`==> Error starting agent: Failed to configure keyring: ${err.message}`);
    opts.exit(1);
    return null;
  }
  for (const line of keyrings.warnings) opts.stdout(line);
  const gossipEncrypted = { lan: keyrings.lan.keys.length > 0, wan: keyrings.wan.keys.length > 0 };
  let agent: Agent;
  try {
    agent = new Agent({
      config: cfg,
      rng: opts.rng,
      definitions,
      disk: {
        read: (p) => ports.disk.read(`${dataDir}/${p}`),
        list: (d) => ports.disk.list(`${dataDir}/${d}`),
      },
      runtime: opts.runtime,
      raftOverrides: opts.raftOverrides,
      logEpochMs: opts.logEpochMs,
      bugs: opts.bugs,
      gossipEncrypted,
    });
  } catch (err) {
    opts.stdout(`==> Error starting agent: ${(err as Error).message}`);
    opts.exit(1);
    return null;
  }

  const udp = [cfg.ports.serfLan];
  const tcp = [cfg.ports.serfLan];
  if (cfg.server) {
    udp.push(cfg.ports.serfWan);
    tcp.push(cfg.ports.server, cfg.ports.serfWan);
  }
  const pendingHttp = new Map<number, (res: import('../http/types.ts').HttpResponse) => void>();
  const pendingDns = new Map<number, (bytes: Uint8Array | null) => void>();
  let exited = false;
  // Each pool seals only among its own port (LAN 8301 ↔ 8301, WAN 8302 ↔ 8302); Raft/RPC stays plain.
  const encrypt: HostEncryption[] = [];
  if (gossipEncrypted.lan) encrypt.push({ ports: [cfg.ports.serfLan], key: keyrings.lan.keys[0]!, keys: keyrings.lan.keys });
  if (cfg.server && gossipEncrypted.wan) encrypt.push({ ports: [cfg.ports.serfWan], key: keyrings.wan.keys[0]!, keys: keyrings.wan.keys });
  const host: Host<unknown, AgentEffect> = new Host<unknown, AgentEffect>({
    ports,
    dataDir,
    listen: { udp, tcp },
    codec: wireCodec,
    encrypt: encrypt.length > 0 ? encrypt : undefined,
    extraEffect: (e) => {
      switch (e.kind) {
        case 'httpResponse': {
          const r = pendingHttp.get(e.reqId);
          pendingHttp.delete(e.reqId);
          r?.(e.res);
          return true;
        }
        case 'dnsResponse': {
          const r = pendingDns.get(e.reqId);
          pendingDns.delete(e.reqId);
          r?.(e.bytes);
          return true;
        }
        case 'dnsForward': {
          const { reqId } = e;
          forwardToRecursors(
            ports.serve,
            e,
            (level, text) => host.log(level, 'dns', text),
            (reply) => {
              const r = pendingDns.get(reqId);
              pendingDns.delete(reqId);
              r?.(reply);
            },
          );
          return true;
        }
        case 'probe': {
          const { checkId, gen } = e;
          ports.probes.run(e.spec, (result) => host.deliver({ kind: 'probeResult', checkId, gen, result } satisfies AgentInput));
          return true;
        }
        case 'exit':
          if (!exited) {
            exited = true;
            // Let replies queued in this batch go out before the sockets close.
            ports.timers.set(ports.clock.nowMs(), () => {
              host.stop();
              opts.exit(e.code);
            });
          }
          return true;
        case 'reloadConfig':
          reloadDefinitions();
          return true;
        default:
          return false;
      }
    },
  });
  /** Re-read the definitions (SIGHUP, /v1/agent/reload); a bad file is logged, the old ones stay. */
  const reloadDefinitions = (): boolean => {
    try {
      const defs = loadDefinitions(ports.disk, cfg.configDirs, cfg.configFiles);
      host.deliver({ kind: 'reload', definitions: defs } satisfies AgentInput);
      return true;
    } catch (err) {
      host.log('ERR', 'agent', `Failed to reload configs: ${(err as Error).message}`);
      return false;
    }
  };

  for (const line of bannerLines(cfg, gossipEncrypted.lan)) opts.stdout(line);
  try {
    host.start(agent);
    let nextReq = 1;
    if (ports.serve) {
      ports.serve.http(cfg.clientAddr, cfg.ports.http, (req, respond) => {
        const reqId = nextReq++;
        pendingHttp.set(reqId, respond);
        host.deliver({ kind: 'http', reqId, req } satisfies AgentInput);
      });
      ports.serve.dns(cfg.clientAddr, cfg.ports.dns, (bytes, transport, respond) => {
        const reqId = nextReq++;
        pendingDns.set(reqId, respond);
        host.deliver({ kind: 'dns', reqId, bytes, transport } satisfies AgentInput);
      });
    }
  } catch (err) {
    opts.stdout(`==> Error starting agent: ${(err as Error).message}`);
    host.stop();
    opts.exit(1);
    return null;
  }
  host.deliver({ kind: 'start' } satisfies AgentInput);

  return {
    agent,
    host,
    config: cfg,
    signal: (sig) => {
      if (sig === 'SIGHUP') {
        host.deliver({ kind: 'signal', sig } satisfies AgentInput);
        reloadDefinitions();
        return;
      }
      host.deliver({ kind: 'signal', sig } satisfies AgentInput);
    },
  };
}
