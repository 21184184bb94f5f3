// sim/scenario/sim-backend.ts — a scenario's hosts as virtual hosts in a seeded SimWorld.
//
// Owns: the hosts at the file's addresses, real agents (core/agent via sim/cluster/agents.ts)
// on them, the CLI running against the virtual network (the commands are handed in by
// cli/commands/scenario.ts, so sim/ does not import cli/), virtual dig/curl/discover, files on each
// host's virtual disk, the walkthrough's web service, partitions, and driving virtual time
// while a command's promises settle.
// Must never: use real timers or real I/O; the only clock is the world's. The one real
// thing is `setImmediate`, used to let microtasks (the CLI's awaits) run between events —
// nothing else is scheduled on it, so the order of everything stays fixed by the seed.
import { SimWorld, type SimHost, type SimProcess } from '../world.ts';
import { spawnAgent } from '../cluster/agents.ts';
import { StepError, type ProcView, type ScenarioBackend } from './backend.ts';
import { resolvePath, rewriteAgentArgs } from './args.ts';
import { parseDigArgs } from './dig-args.ts';
import { curlText, parseCurlArgs, runDig, runDiscover, webReply, type DnsSend } from './sim-tools.ts';
import type { Rng } from '../../core/rng.ts';
import type { Command, HostDecl, Sig } from './types.ts';

/** The CLI's view of its environment (structurally the same as cli/commands/common.ts CliIo). */
export interface ScenarioCliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  http: {
    request(addr: string, method: string, path: string, body?: Uint8Array): Promise<{ status: number; headers: Record<string, string>; body: Uint8Array }>;
  };
  readFile?(path: string): Promise<Uint8Array>;
  sleep?(ms: number): Promise<void>;
}

export interface ScenarioCli {
  /** `consul SUB …` by name (cli/commands/index.ts `commands`). */
  commands: Record<string, (args: string[], io: ScenarioCliIo) => Promise<number>>;
  /** The error the real HTTP client throws when an agent cannot be reached. */
  connectionError(addr: string, reason: string): Error;
}

/** How long a one-shot command may take in virtual time. */
const COMMAND_LIMIT_MS = 120_000;

const REASONS: Record<string, string> = {
  refused: 'connection refused',
  timeout: 'connection timed out',
  reset: 'connection reset by peer',
  nohost: 'no such host',
};

interface WebService extends ProcView {
  port: number;
  out: string[];
  stopped: boolean;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimScenarioBackend implements ScenarioBackend {
  readonly mode = 'sim' as const;
  readonly world: SimWorld;
  private readonly hosts = new Map<string, SimHost>();
  private readonly agents = new Map<string, SimProcess>();
  /** One view per process, so the engine's per-process log cursors stay put. */
  private readonly views = new WeakMap<SimProcess, ProcView>();
  private readonly services = new Map<string, Map<string, WebService>>();
  private readonly dnsRng: Rng;
  private wake = false;
  private readonly t0: number;

  constructor(
    seed: string | number,
    private readonly cli: ScenarioCli,
  ) {
    this.world = new SimWorld({ seed });
    this.dnsRng = this.world.rng.fork('scenario/dns-ids');
    this.t0 = this.world.nowMs();
  }

  async start(hosts: HostDecl[]): Promise<void> {
    for (const h of hosts) this.hosts.set(h.name, this.world.addHost(h.ip, h.name));
  }

  private host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new StepError(`no host '${name}'`);
    return h;
  }

  async startAgent(host: string, args: string[]): Promise<void> {
    const h = this.host(host);
    const running = this.agents.get(host);
    if (running && !running.exited) {
      throw new StepError(`${host} already runs an agent (pid ${running.pid}); stop it first (^C, kill agent, or consul leave)`);
    }
    const argv = rewriteAgentArgs(args, { path: (p) => resolvePath(p), addr: (_f, v) => v });
    this.agents.set(host, spawnAgent(this.world, h.ip, argv).process);
    // Let the process's main run (spawn schedules it) before anyone looks at its output.
    this.world.runFor(0);
  }

  proc(host: string, name: string): ProcView | null {
    if (name === 'agent') {
      const p = this.agents.get(host);
      if (!p) return null;
      let v = this.views.get(p);
      if (!v) this.views.set(p, (v = { lines: () => p.output, exited: () => p.exited }));
      return v;
    }
    return this.services.get(host)?.get(name) ?? null;
  }

  async signal(host: string, name: string, sig: Sig): Promise<void> {
    if (name === 'agent') {
      const p = this.agents.get(host);
      if (!p || p.exited) throw new StepError(`${host} runs no agent`);
      if (sig === 'SIGKILL') p.kill9();
      else p.signal(sig);
      return;
    }
    const s = this.services.get(host)?.get(name);
    if (!s || s.stopped) {
      const running = [...(this.services.get(host)?.entries() ?? [])].filter(([, x]) => !x.stopped).map(([k]) => k);
      throw new StepError(`${host} runs no web service '${name}' (running: ${running.length ? running.join(', ') : 'none'})`);
    }
    this.host(host).stopHttp(s.port);
    s.stopped = true;
    this.world.traceLine(`scenario: ${host} ${name} stopped (${sig})`);
  }

  async waitUntil(pred: () => boolean, maxMs: number): Promise<boolean> {
    return this.world.runUntilTrue(pred, maxMs);
  }

  async sleep(ms: number): Promise<void> {
    this.world.runFor(ms);
  }

  partition(groups: string[][]): void {
    this.world.net.partition(groups.map((g) => g.map((n) => this.host(n).ip)));
  }

  isolate(host: string): void {
    this.world.net.isolate(this.host(host).ip);
  }

  heal(): void {
    this.world.net.heal();
  }

  note(line: string): void {
    this.world.traceLine(line);
  }

  traceHash(): string {
    return this.world.traceHash();
  }

  elapsedMs(): number {
    return this.world.nowMs() - this.t0;
  }

  async close(): Promise<void> {
    // The world is garbage once dropped; nothing real to clean up.
  }

  /** A callback-style virtual operation as a promise that wakes the settle loop when it completes. */
  private op<T>(start: (done: (v: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve) =>
      start((v) => {
        this.wake = true;
        resolve(v);
      }),
    );
  }

  /** Run the world until `p` settles (its continuations run between events). */
  private async settle<T>(p: Promise<T>, what: string): Promise<T> {
    let state: 'pending' | 'ok' | 'err' = 'pending';
    let value: T | undefined;
    let error: unknown;
    p.then(
      (v) => {
        state = 'ok';
        value = v;
      },
      (e) => {
        state = 'err';
        error = e;
      },
    );
    const end = this.world.nowMs() + COMMAND_LIMIT_MS;
    for (;;) {
      await flush();
      if (state !== 'pending') break;
      if (this.world.nowMs() >= end) throw new StepError(`'${what}' did not finish within ${COMMAND_LIMIT_MS / 1000}s of virtual time`);
      this.wake = false;
      this.world.runUntilTrue(() => this.wake, end - this.world.nowMs());
    }
    if (state === 'err') throw error;
    return value as T;
  }

  private dnsSender(h: SimHost): DnsSend {
    return (server, query, transport) =>
      this.op<Uint8Array | null>((done) => this.world.dnsQuery(h.ip, server, query, { transport, timeoutMs: 2000 }, done));
  }

  private cliIo(h: SimHost, out: (s: string) => void): ScenarioCliIo {
    return {
      stdout: out,
      stderr: out,
      env: {},
      http: {
        request: (addr, method, path, body) =>
          this.op<{ ok: true; status: number; headers: Record<string, string>; bodyBytes: Uint8Array } | { ok: false; reason: string }>((done) =>
            this.world.httpRequest(h.ip, `http://${addr}${path}`, { method, body, timeoutMs: COMMAND_LIMIT_MS }, done),
          ).then((r) => {
            if (!r.ok) throw this.cli.connectionError(addr, REASONS[r.reason] ?? r.reason);
            return { status: r.status, headers: r.headers, body: r.bodyBytes };
          }),
      },
      readFile: async (path) => {
        const b = h.disk.read(resolvePath(path));
        if (b === null) throw new Error(`open ${path}: no such file or directory`);
        return b;
      },
      sleep: (ms) => this.op<void>((done) => this.world.schedule(this.world.nowMs() + ms, 'scenario cli sleep', () => done())),
    };
  }

  async exec(host: string, cmd: Command): Promise<string> {
    const h = this.host(host);
    let out = '';
    const write = (s: string): void => {
      out += s;
    };
    switch (cmd.kind) {
      case 'cli': {
        const [sub, ...rest] = cmd.args;
        const run = this.cli.commands[sub!];
        if (!run) return `Unknown command '${sub}'; available: ${Object.keys(this.cli.commands).sort().join(', ')}, agent, discover\n`;
        await this.settle(run(rest, this.cliIo(h, write)), `consul ${cmd.args.join(' ')}`);
        return out;
      }
      case 'dig': {
        const req = parseDigArgs(cmd.args);
        if (typeof req === 'string') return `${req}\n`;
        const clock = { nowMs: () => this.world.nowMs(), wallMs: () => this.world.kernel.epochMs + this.world.nowMs() };
        return this.settle(runDig(req, this.dnsRng.int(65536), this.dnsSender(h), clock), `dig ${cmd.args.join(' ')}`);
      }
      case 'discover':
        return this.settle(runDiscover(cmd.args, () => this.dnsRng.int(65536), this.dnsSender(h)), `muster discover ${cmd.args.join(' ')}`);
      case 'curl': {
        const req = parseCurlArgs(cmd.args);
        if (typeof req === 'string') return req;
        let r: { ok: true; body: string } | { ok: false; reason: 'refused' | 'timeout' | 'reset' | 'nohost' };
        try {
          r = await this.settle(
            this.op<{ ok: true; body: string } | { ok: false; reason: 'refused' | 'timeout' | 'reset' | 'nohost' }>((done) =>
              this.world.httpRequest(h.ip, req.url, { method: req.method, body: req.body, timeoutMs: 30_000 }, (o) =>
                done(o.ok ? { ok: true, body: o.body } : { ok: false, reason: o.reason }),
              ),
            ),
            `curl ${req.url}`,
          );
        } catch (e) {
          if (e instanceof StepError) throw e;
          return `curl: (3) URL rejected: ${(e as Error).message}\n`;
        }
        return curlText(req.url, r);
      }
      case 'cat': {
        const text = h.disk.readText(resolvePath(cmd.path));
        return text === null ? `cat: ${cmd.path}: No such file or directory\n` : text;
      }
      case 'write': {
        const p = resolvePath(cmd.path);
        const before = cmd.append ? (h.disk.readText(p) ?? '') : '';
        h.disk.writeText(p, before + cmd.text);
        return '';
      }
      case 'mkdir':
        // Directories are implicit on the virtual disk.
        return '';
      case 'sleep':
        this.world.runFor(cmd.ms);
        return '';
      case 'webservice':
        return this.startWebService(host, h, cmd.name, cmd.port, cmd.greeting);
      case 'signal':
        await this.signal(host, cmd.target, cmd.sig);
        return '';
      case 'agent':
        throw new StepError('internal: agent start goes through startAgent');
    }
  }

  private startWebService(host: string, h: SimHost, name: string, port: number, greeting: string): string {
    let byName = this.services.get(host);
    if (!byName) this.services.set(host, (byName = new Map()));
    const prev = byName.get(name);
    if (prev && !prev.stopped) throw new StepError(`${host} already runs web service '${name}'; stop it first (kill ${name})`);
    for (const [other, s] of byName) {
      if (!s.stopped && s.port === port) throw new StepError(`port ${port} on ${host} is taken by web service '${other}'`);
    }
    const svc: WebService = {
      port,
      out: [],
      stopped: false,
      lines: () => svc.out,
      exited: () => svc.stopped,
    };
    h.serveHttp(port, (_method, path) => {
      const r = webReply(path, greeting);
      svc.out.push(r.line);
      this.world.traceLine(`scenario: ${host} ${name}: ${r.line}`);
      return { status: r.status, body: r.body };
    });
    byName.set(name, svc);
    return '';
  }
}
