// cli/commands/agent.ts — `muster agent …` / `consul agent …`: a real agent on this host.
//
// Owns: building real ports (sockets, timers, fsync'd files, probes) for the bind address,
// the real HTTP (express) and DNS (UDP+TCP) servers behind the agent's ServePort, OS signals,
// the -pid-file (written once the agent runs, removed when it exits), relative config paths
// made absolute, and turning start-up failures into one line and exit code 1.
// Must never: contain agent behaviour — core/agent/process.ts is the same code the simulator runs.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AGENT_USAGE, UsageError, loadAgentConfig } from '../../core/agent/config.ts';
import { ConfigError } from '../../core/config/tree.ts';
import { RealDisk } from '../../transports/disk.ts';
import { startAgentProcess, type AgentProcess } from '../../core/agent/process.ts';
import type { ServePort } from '../../core/runtime/ports.ts';
import { makeRng } from '../../core/rng.ts';
import { createRealPorts } from '../../transports/ports.ts';
import { startHttpServer, type HttpServerOptions, type RunningHttpServer } from '../../transports/http-server.ts';
import { startDnsServer, type DnsServer } from '../../transports/dns-server.ts';
import { forwardDnsUdp } from '../../transports/dns-forward.ts';
import { checkUiDir, serveUi } from '../../transports/ui-static.ts';
import { agentTls, TlsConfigError, type AgentTls } from '../../transports/tls.ts';

interface Closable {
  close(): Promise<void>;
}

function firstPrivateIpv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a.address)) return a.address;
    }
  }
  return '127.0.0.1';
}

function checkDataDir(dir: string): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.muster-write-check-${process.pid}`);
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe);
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `data dir ${dir} is not usable: ${e.code === 'EACCES' ? 'permission denied' : e.message} (check -data-dir and its permissions)`;
  }
}

export interface RealAgent {
  process: AgentProcess;
  /** Resolves with the exit code once the agent stopped (leave, signal, error) and closed its sockets. */
  exited: Promise<number>;
}

export interface StartRealAgentOptions {
  /** Banner and start-up errors (default: process.stdout / process.stderr). */
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Where log lines go (default process.stdout). */
  logStream?: NodeJS.WritableStream;
}

/** `muster agent` without the signal wiring: a running real agent, or the exit code it failed with. */
export async function startRealAgent(args: string[], opts: StartRealAgentOptions = {}): Promise<RealAgent | number> {
  const stdout = opts.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stderr = opts.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  args = absolutePaths(args);
  let cfg;
  try {
    // Flags and files: bind_addr, data_dir, ports, ui and pid_file may all come from a file.
    cfg = loadAgentConfig(args, os.hostname(), new RealDisk()).config;
  } catch (err) {
    if (err instanceof UsageError) {
      stderr(`==> ${err.message}\n${AGENT_USAGE.trimEnd()}`);
      return 1;
    }
    if (err instanceof ConfigError) {
      stderr(`==> Error loading config: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const ip = cfg.bindAddr === '0.0.0.0' ? firstPrivateIpv4() : cfg.bindAddr;
  const dirProblem = checkDataDir(cfg.dataDir);
  if (dirProblem) {
    stderr(`==> Error starting agent: ${dirProblem}`);
    return 1;
  }

  let tlsCfg: AgentTls;
  try {
    tlsCfg = agentTls(cfg.tls, { httpsPort: cfg.ports.https, server: cfg.server, datacenter: cfg.datacenter, domain: cfg.domain });
  } catch (err) {
    if (!(err instanceof TlsConfigError)) throw err;
    stderr(`==> Error loading config: ${err.message}`);
    return 1;
  }

  let ports;
  try {
    const rpcTls = tlsCfg.rpc ? { net: { tls: { port: cfg.ports.server, ...tlsCfg.rpc } } } : {};
    ports = await createRealPorts({ ip, logLevel: cfg.logLevel, logStream: opts.logStream as never, ...rpcTls });
  } catch (err) {
    stderr(`==> Error starting agent: ${(err as Error).message}`);
    return 1;
  }

  if (cfg.uiDir) {
    const problem = checkUiDir(cfg.uiDir);
    if (problem) {
      stderr(`==> Error starting agent: ${problem}`);
      return 1;
    }
  }
  const ui = cfg.ui || cfg.uiDir ? serveUi({ uiDir: cfg.uiDir || undefined }) : null;
  const servers: Closable[] = [];
  const binding: Promise<unknown>[] = [];
  let serversClosed = false;
  const serve: ServePort = {
    http(bindIp, port, onRequest) {
      const handle: HttpServerOptions['handle'] = (req, respond) => {
        const page = ui?.({ method: req.method, path: req.path });
        if (page) respond(page);
        else onRequest(req, respond);
      };
      binding.push(startHttpServer({ ip: bindIp, port, handle }).then((s: RunningHttpServer) => servers.push(s)));
      // ports.https: the same API over TLS (addresses.https, else where HTTP listens).
      if (tlsCfg.https) {
        const httpsIp = cfg.addresses.https || bindIp;
        binding.push(startHttpServer({ ip: httpsIp, port: cfg.ports.https, handle, tls: tlsCfg.https }).then((s: RunningHttpServer) => servers.push(s)));
      }
    },
    dns(bindIp, port, onQuery) {
      const p = startDnsServer({
        ip: bindIp,
        port,
        answer: (bytes, transport) => new Promise((resolve) => onQuery(bytes, transport, resolve)),
        onError: (text) => ports.log.line('WARN', 'dns', text, ports.clock.nowMs()),
      }).then((s: DnsServer) => servers.push(s));
      binding.push(p);
    },
    dnsForward(server, bytes, timeoutMs, done) {
      // An upstream answer that arrives after shutdown has no socket left to go out on.
      forwardDnsUdp(
        server,
        bytes,
        timeoutMs,
        (reply) => {
          if (!serversClosed) done(reply);
        },
        ip,
      );
    },
  };

  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const ap = startAgentProcess({
    ports: { ...ports, serve },
    argv: ip === cfg.bindAddr ? args : [...args, `-bind=${ip}`],
    hostName: os.hostname(),
    rng: makeRng(randomBytes(8).toString('hex')),
    runtime: { os: process.platform, arch: process.arch === 'x64' ? 'amd64' : process.arch, version: process.version, cpuCount: os.cpus().length },
    stdout,
    exit: (code) => resolveExit(code),
  });

  const shutdown = async (): Promise<void> => {
    serversClosed = true;
    await Promise.allSettled(servers.map((s) => s.close()));
    await ports.close();
  };

  if (!ap) {
    const code = await exited;
    await shutdown();
    return code;
  }
  try {
    await Promise.all([ports.ready(), ...binding]);
  } catch (err) {
    stderr(`==> Error starting agent: ${(err as Error).message}`);
    ap.host.stop();
    await shutdown();
    return 1;
  }
  const pidFile = cfg.pidFile ? path.resolve(cfg.pidFile) : '';
  if (pidFile) {
    const problem = writePidFile(pidFile);
    if (problem) {
      stderr(`==> Error starting agent: ${problem}`);
      ap.host.stop();
      await shutdown();
      return 1;
    }
  }
  const removePid = (): void => {
    if (!pidFile) return;
    try {
      // Only our own PID: a newer agent may have taken the file over.
      if (fs.readFileSync(pidFile, 'utf8').trim() === String(process.pid)) fs.rmSync(pidFile, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', removePid);
  return {
    process: ap,
    exited: exited.then(async (code) => {
      await shutdown();
      removePid();
      process.off('exit', removePid);
      return code;
    }),
  };
}

/** Consul's pid_file: the PID and nothing else, created with its directory if needed. */
function writePidFile(file: string): string | null {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${process.pid}`, { mode: 0o644 });
    return null;
  } catch (err) {
    return `could not write pid file ${file}: ${(err as Error).message} (check -pid-file / pid_file and its directory's permissions)`;
  }
}

const PATH_FLAGS = /^(--?(?:config-file|config-dir|data-dir|ui-dir|pid-file))(=?)(.*)$/;

/** Relative path flags resolved against the working directory (the walkthrough's -config-dir=./conf). */
function absolutePaths(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = PATH_FLAGS.exec(args[i]!);
    if (!m) {
      out.push(args[i]!);
      continue;
    }
    if (m[2] === '=') out.push(`${m[1]}=${m[3] ? path.resolve(m[3]) : ''}`);
    else if (m[3] === '' && i + 1 < args.length) out.push(m[1]!, path.resolve(args[++i]!));
    else out.push(args[i]!);
  }
  return out;
}

export async function agentCommand(args: string[]): Promise<number> {
  const started = await startRealAgent(args);
  if (typeof started === 'number') return started;
  const ap = started.process;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP') => () => ap.signal(sig);
  const handlers = {
    SIGINT: onSignal('SIGINT'),
    SIGTERM: onSignal('SIGTERM'),
    SIGHUP: onSignal('SIGHUP'),
  };
  for (const [sig, h] of Object.entries(handlers)) process.on(sig, h);
  const code = await started.exited;
  for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
  return code;
}
