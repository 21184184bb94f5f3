// cli/scenario/real-backend.ts — a scenario's hosts as real processes on this machine (`--real`).
//
// Owns: mapping each host to a loopback address (127.0.0.2, .3, … in file order) and a temp
// directory (its file system root: /tmp/consul → <tmp>/n1/tmp/consul); running
// `node bin/muster.mjs agent …` with -bind/-client/-join and path flags rewritten; the CLI
// and the discovery client in-process against the host's agent (CONSUL_HTTP_ADDR); the
// installed `dig`; curl over node:http; the web service as a node child process; and
// rewriting output back to the file's addresses so the same expectations hold. Every child
// is tracked by PID and killed on close, on error, and if this process exits or is interrupted.
// Must never: touch addresses outside 127.0.0.0/8, kill a process it did not start, or
// leave its temp directory behind.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import http from 'node:http';
import { StepError, type ProcView, type ScenarioBackend } from '../../sim/scenario/backend.ts';
import { HOST_CWD, flagValue, resolvePath, rewriteAgentArgs } from '../../sim/scenario/args.ts';
import { parseDigArgs } from '../../sim/scenario/dig-args.ts';
import { curlText, parseCurlArgs, type CurlOutcome } from '../../sim/scenario/sim-tools.ts';
import type { Command, HostDecl, Sig } from '../../sim/scenario/types.ts';
import { commands } from '../commands/index.ts';
import { nodeHttpClient } from '../http-client.ts';
import { discover } from '../commands/discover.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const MUSTER_BIN = join(ROOT, 'bin', 'muster.mjs');
const WEB_SERVICE = join(ROOT, 'cli', 'scenario', 'web-service.mjs');

interface RealHost {
  name: string;
  simIp: string;
  loop: string;
  /** This host's file system root on the real disk. */
  dir: string;
}

interface RealProc extends ProcView {
  child: ChildProcess;
  out: string[];
  done: boolean;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class RealScenarioBackend implements ScenarioBackend {
  readonly mode = 'real' as const;
  private readonly base: number[] | null;
  private root = '';
  private readonly hosts = new Map<string, RealHost>();
  private readonly agents = new Map<string, RealProc>();
  private readonly services = new Map<string, Map<string, RealProc>>();
  private readonly children = new Set<ChildProcess>();
  private readonly t0 = Date.now();
  private closed = false;
  private toSimRe: RegExp | null = null;
  private readonly onExit = (): void => this.killAllSync();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.killAllSync();
    if (this.root) rmSync(this.root, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };

  constructor(opts: { loopbackBase?: string } = {}) {
    if (opts.loopbackBase !== undefined) {
      const b = opts.loopbackBase.split('.').map(Number);
      if (b.length !== 4 || b[0] !== 127 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
        throw new StepError(`--loopback-base must be a 127.x.y.z address, got ${opts.loopbackBase}`);
      }
      this.base = b;
    } else this.base = null;
  }

  /**
   * A loopback address for each host. By default one as long as the host's own address
   * (10.10.126.101 → 127.0.100.100), so tables keep their columns when output is mapped
   * back; hosts with short addresses (and --loopback-base) count up from 127.0.0.2.
   */
  private chooseLoopbacks(hosts: HostDecl[]): string[] {
    const used = new Set<string>();
    let next = 0;
    const sequential = (): string => {
      const b = this.base ?? [127, 0, 0, 2];
      for (;;) {
        const n = (b[1]! << 16) + (b[2]! << 8) + b[3]! + next++;
        const ip = `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
        if ((n & 255) !== 0 && (n & 255) !== 255 && !used.has(ip)) return ip;
      }
    };
    return hosts.map((h) => {
      let ip: string | null = null;
      if (this.base === null) {
        // 127.0.B.C has 7 + len(B) + len(C) characters.
        const want = h.ip.length - 7;
        for (let b = 0; b < 256 && !ip; b++) {
          for (let c = 2; c < 255 && !ip; c++) {
            const cand = `127.0.${b}.${c}`;
            if (String(b).length + String(c).length === want && !used.has(cand)) ip = cand;
          }
        }
      }
      ip ??= sequential();
      used.add(ip);
      return ip;
    });
  }

  async start(hosts: HostDecl[]): Promise<void> {
    this.root = mkdtempSync(join(tmpdir(), 'muster-scenario-'));
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const loops = this.chooseLoopbacks(hosts);
    hosts.forEach((h, i) => {
      const dir = join(this.root, h.name);
      mkdirSync(join(dir, HOST_CWD), { recursive: true });
      this.hosts.set(h.name, { name: h.name, simIp: h.ip, loop: loops[i]!, dir });
    });
    this.toSimRe = new RegExp(`(?<![\\d.])(${loops.map(escapeRe).join('|')})(?![\\d])`, 'g');
  }

  private host(name: string): RealHost {
    const h = this.hosts.get(name);
    if (!h) throw new StepError(`no host '${name}'`);
    return h;
  }

  // --- address and path mapping -------------------------------------------------------

  /** Real output → the file's addresses. */
  private toSim(text: string): string {
    if (!this.toSimRe) return text;
    const bySim = new Map([...this.hosts.values()].map((h) => [h.loop, h.simIp]));
    return text.replace(this.toSimRe, (m) => bySim.get(m) ?? m);
  }

  /** The file's addresses → real ones, as seen from host h (127.0.0.1 / localhost = h itself). */
  private toReal(text: string, h: RealHost, localhostToo = true): string {
    let t = text;
    for (const o of this.hosts.values()) t = t.replace(new RegExp(`(?<![\\d.])${escapeRe(o.simIp)}(?![\\d])`, 'g'), o.loop);
    if (localhostToo) t = t.replace(/(?<![\d.])127\.0\.0\.1(?![\d])/g, h.loop);
    return t.replace(/\blocalhost\b/g, h.loop);
  }

  private realPath(h: RealHost, p: string): string {
    return join(h.dir, resolvePath(p));
  }

  // --- processes -------------------------------------------------------------------------

  private spawnTracked(cmd: string, args: string[], cwd: string, onLine: (line: string) => void, stdinPipe = false): RealProc {
    const child = spawn(cmd, args, { cwd, stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.children.add(child);
    const p: RealProc = { child, out: [], done: false, lines: () => p.out, exited: () => p.done };
    const read = (s: NodeJS.ReadableStream | null): void => {
      if (!s) return;
      createInterface({ input: s }).on('line', (l) => onLine(this.toSim(l)));
    };
    read(child.stdout);
    read(child.stderr);
    child.on('exit', () => {
      p.done = true;
      this.children.delete(child);
    });
    child.on('error', (e) => {
      p.out.push(`(could not start ${cmd}: ${e.message})`);
      p.done = true;
      this.children.delete(child);
    });
    return p;
  }

  async startAgent(host: string, args: string[]): Promise<void> {
    const h = this.host(host);
    const running = this.agents.get(host);
    if (running && !running.done) throw new StepError(`${host} already runs an agent (pid ${running.child.pid}); stop it first (^C, kill agent, or consul leave)`);
    let argv = rewriteAgentArgs(args, {
      path: (p) => this.realPath(h, p),
      addr: (_flag, v) => this.toReal(v, h),
    });
    if (flagValue(argv, 'bind') === undefined) argv.push(`-bind=${h.loop}`);
    const client = flagValue(argv, 'client');
    if (client === undefined) argv.push(`-client=${h.loop}`);
    else if (client === '0.0.0.0') argv = argv.map((a) => a.replace(/^(--?client[= ]?)0\.0\.0\.0$/, `$1${h.loop}`));
    // The client address is 127.0.0.1 in the file's world unless the file chose one.
    const clientLine = client === undefined ? `Client Addr: ${h.simIp} ` : null;
    const proc = this.spawnTracked(process.execPath, [MUSTER_BIN, 'agent', ...argv], join(h.dir, HOST_CWD), (l) =>
      proc.out.push(clientLine && l.includes(clientLine) ? l.replace(clientLine, 'Client Addr: 127.0.0.1 ') : l),
    );
    this.agents.set(host, proc);
    // Ready when its HTTP port answers (or it gave up).
    const deadline = Date.now() + 30_000;
    while (!proc.done && Date.now() < deadline) {
      if (await this.canConnect(h.loop, 8500)) return;
      await sleepReal(50);
    }
  }

  private canConnect(ip: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ host: ip, port });
      const done = (ok: boolean): void => {
        s.destroy();
        resolve(ok);
      };
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
      s.setTimeout(500, () => done(false));
    });
  }

  proc(host: string, name: string): ProcView | null {
    if (name === 'agent') return this.agents.get(host) ?? null;
    return this.services.get(host)?.get(name) ?? null;
  }

  async signal(host: string, name: string, sig: Sig): Promise<void> {
    const p = name === 'agent' ? this.agents.get(host) : this.services.get(host)?.get(name);
    if (!p || p.done) throw new StepError(`${host} runs no ${name === 'agent' ? 'agent' : `web service '${name}'`}`);
    p.child.kill(sig);
    if (name !== 'agent') {
      const deadline = Date.now() + 5000;
      while (!p.done && Date.now() < deadline) await sleepReal(20);
    }
  }

  async waitUntil(pred: () => boolean, maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (pred()) return true;
      if (Date.now() >= deadline) return false;
      await sleepReal(25);
    }
  }

  sleep(ms: number): Promise<void> {
    return sleepReal(ms);
  }

  partition(): void {
    throw new StepError('partitions need the simulator: --real cannot cut traffic between loopback addresses (run without --real)');
  }

  isolate(): void {
    this.partition();
  }

  heal(): void {
    this.partition();
  }

  note(): void {}

  traceHash(): null {
    return null;
  }

  elapsedMs(): number {
    return Date.now() - this.t0;
  }

  private killAllSync(): void {
    for (const c of this.children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waits = [...this.children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
    this.killAllSync();
    await Promise.race([Promise.all(waits), sleepReal(5000)]);
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  // --- one-shot commands -------------------------------------------------------------------

  async exec(host: string, cmd: Command): Promise<string> {
    const h = this.host(host);
    let out = '';
    const write = (s: string): void => {
      out += s;
    };
    switch (cmd.kind) {
      case 'cli': {
        const [sub, ...rest] = cmd.args;
        const run = commands[sub!];
        if (!run) return `Unknown command '${sub}'; available: ${Object.keys(commands).sort().join(', ')}, agent, discover\n`;
        const io = {
          stdout: write,
          stderr: write,
          env: { CONSUL_HTTP_ADDR: `${h.loop}:8500` },
          http: nodeHttpClient(),
          readFile: async (p: string) => new Uint8Array(readFileSync(this.realPath(h, p))),
        };
        await run(rest.map((a) => this.toReal(a, h)), io);
        return this.toSim(out);
      }
      case 'discover': {
        const args = cmd.args.map((a) => this.toReal(a, h));
        if (!args.some((a) => a.startsWith('--server') || a.startsWith('-server'))) args.push('--server', `${h.loop}:8600`);
        await discover(args, { stdout: write, stderr: write });
        return this.toSim(out);
      }
      case 'dig':
        return this.dig(h, cmd.args);
      case 'curl': {
        const req = parseCurlArgs(cmd.args);
        if (typeof req === 'string') return req;
        const url = this.toReal(req.url, h);
        const r = await this.httpGet(url, req.method, req.body);
        return this.toSim(curlText(req.url, r));
      }
      case 'cat': {
        const p = this.realPath(h, cmd.path);
        if (!existsSync(p)) return `cat: ${cmd.path}: No such file or directory\n`;
        return this.toSim(readFileSync(p, 'utf8'));
      }
      case 'write': {
        const p = this.realPath(h, cmd.path);
        mkdirSync(dirname(p), { recursive: true });
        // Addresses in files are the file's: map them, but leave a literal 127.0.0.1 (a
        // service address the walkthrough gives) as it is; `localhost` is the host itself.
        const text = this.toReal(cmd.text, h, false);
        if (cmd.append) appendFileSync(p, text);
        else writeFileSync(p, text);
        return '';
      }
      case 'mkdir':
        mkdirSync(this.realPath(h, cmd.path), { recursive: true });
        return '';
      case 'sleep':
        await sleepReal(cmd.ms);
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

  private async startWebService(host: string, h: RealHost, name: string, port: number, greeting: string): Promise<string> {
    let byName = this.services.get(host);
    if (!byName) this.services.set(host, (byName = new Map()));
    const prev = byName.get(name);
    if (prev && !prev.done) throw new StepError(`${host} already runs web service '${name}'; stop it first (kill ${name})`);
    let ready = false;
    let failure = '';
    const proc: RealProc = this.spawnTracked(
      process.execPath,
      [WEB_SERVICE, h.loop, String(port), greeting],
      join(h.dir, HOST_CWD),
      (l) => {
        if (l === 'ready') ready = true;
        else if (l.startsWith('web service: ')) failure = l;
        else proc.out.push(l);
      },
      true,
    );
    byName.set(name, proc);
    const deadline = Date.now() + 10_000;
    while (!ready && !proc.done && Date.now() < deadline) await sleepReal(20);
    if (!ready) throw new StepError(`web service '${name}' on ${host} did not start: ${failure || 'no answer within 10s'}`);
    return '';
  }

  private httpGet(url: string, method: string, body?: string): Promise<CurlOutcome> {
    return new Promise((resolve) => {
      const req = http.request(url, { method, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ ok: false, reason: 'reset' }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, reason: e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' ? 'timeout' : e.code === 'ENOTFOUND' ? 'nohost' : 'reset' }),
      );
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** The installed dig, asked like dig 9.9 asked Consul (no EDNS), its output mapped back. */
  private dig(h: RealHost, args: string[]): Promise<string> {
    const req = parseDigArgs(args);
    if (typeof req === 'string') return Promise.resolve(`${req}\n`);
    const realServer = this.toReal(req.server, h);
    const realArgs = args.map((a) => (a === `@${req.server}` ? `@${realServer}` : a));
    return new Promise((resolve) => {
      execFile('dig', [...realArgs, '+noedns'], { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve('dig: command not found (install dnsutils / bind9-dnsutils for --real)\n');
          return;
        }
        const lines = `${stdout}${stderr}`.split('\n').map((l) => {
          if (l.startsWith('; <<>> DiG ')) return l.replace(' +noedns', '').split(`@${realServer}`).join(`@${req.server}`);
          if (l.startsWith(';; SERVER: ')) return l.split(realServer).join(req.server).replace(/ \((UDP|TCP)\)$/, '');
          return l;
        });
        resolve(this.toSim(lines.join('\n')));
      });
    });
  }
}
