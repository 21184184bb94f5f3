// test/e2e/harness.ts — real processes for end-to-end tests: agents, the CLI, dig, small services.
//
// Owns: spawning `node bin/muster.mjs …` children (agents and CLI runs), polling with deadlines,
// and killing exactly the processes this harness started, by PID.
// Must never: wait without a deadline, signal a process it did not start, or touch addresses
// outside 127.0.0.0/8 (or a network namespace the calling test created).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MUSTER = path.join(REPO, 'bin', 'muster.mjs');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function freshTempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `muster-${tag}-`));
}

/** A child this harness started; `output` keeps its stdout+stderr (also teed to logFile). */
export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  output: string[];
  logFile: string;
  exited: Promise<number | null>;
  exitCode: number | null | undefined;
}

export interface SpawnOptions {
  /** Run inside this network namespace (`ip netns exec NS …`, which execs, so the PID stays the node's). */
  netns?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Tracks every child it started so afterAll can kill them all, by PID, whatever happened. */
export class ProcessGroup {
  readonly procs: Proc[] = [];

  constructor(readonly logDir: string) {}

  spawn(name: string, command: string, args: string[], opts: SpawnOptions = {}): Proc {
    const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, command, ...args]] : [command, args];
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${cmd} ${argv.join(' ')}`);
    const logFile = path.join(this.logDir, `${name}.log`);
    const out = fs.createWriteStream(logFile, { flags: 'a' });
    out.write(`### ${new Date().toISOString()} ${cmd} ${argv.join(' ')}\n`);
    const proc: Proc = {
      name,
      child,
      pid: child.pid,
      output: [],
      logFile,
      exitCode: undefined,
      exited: new Promise((resolve) => {
        child.on('exit', (code, sig) => {
          proc.exitCode = code;
          out.write(`### exited code=${code} signal=${sig}\n`);
          resolve(code);
        });
      }),
    };
    let partial = '';
    const onData = (buf: Buffer) => {
      out.write(buf);
      const text = partial + buf.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      proc.output.push(...lines);
      if (proc.output.length > 4000) proc.output.splice(0, proc.output.length - 4000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.procs.push(proc);
    return proc;
  }

  /** `node bin/muster.mjs agent ARGS` as a named process. */
  agent(name: string, args: string[], opts: SpawnOptions = {}): Proc {
    return this.spawn(name, process.execPath, [MUSTER, 'agent', ...args], opts);
  }

  /** A web3-like HTTP service: `/health` answers 200, `/` says hello. */
  web3(name: string, ip: string, port: number, opts: SpawnOptions = {}): Proc {
    const script = `
      const http = require('node:http');
      http.createServer((req, res) => {
        if (req.url === '/health') { res.end('ok'); return; }
        res.end('Hello Web3! This is ${name}');
      }).listen(${port}, '${ip}', () => console.log('listening ${ip}:${port}'));`;
    return this.spawn(name, process.execPath, ['-e', script], opts);
  }

  /** SIGKILL one process this group started and wait (bounded) until it is gone. */
  async kill9(p: Proc, timeoutMs = 10_000): Promise<void> {
    if (p.exitCode === undefined) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await withDeadline(p.exited, timeoutMs, `${p.name} (pid ${p.pid}) did not exit after SIGKILL`);
  }

  /** Send a signal and wait (bounded) for the exit code. */
  async signalAndWait(p: Proc, sig: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
    if (p.exitCode === undefined) process.kill(p.pid, sig);
    return withDeadline(p.exited, timeoutMs, `${p.name} (pid ${p.pid}) did not exit within ${timeoutMs} ms of ${sig}`);
  }

  /** Kill every process still running, by PID. Never throws. */
  async killAll(): Promise<void> {
    await Promise.allSettled(this.procs.map((p) => this.kill9(p, 5000)));
  }

  /** Last lines of each process's output, for failure messages. */
  tails(lines = 15, only?: Proc[]): string {
    return (only ?? this.procs)
      .map((p) => `--- ${p.name} (pid ${p.pid}${p.exitCode !== undefined ? `, exited ${p.exitCode}` : ''}) ---\n${p.output.slice(-lines).join('\n')}`)
      .join('\n');
  }
}

export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `node bin/muster.mjs ARGS` to completion (killed by PID at the deadline). */
export function runCli(args: string[], opts: { timeoutMs?: number; netns?: string } = {}): Promise<CliResult> {
  return runCommand(process.execPath, [MUSTER, ...args], opts);
}

/** Run any command to completion with a deadline; on the deadline the child is killed by PID. */
export function runCommand(command: string, args: string[], opts: { timeoutMs?: number; netns?: string } = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      reject(new Error(`timeout after ${timeoutMs} ms: ${cmd} ${argv.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Extra text for the failure message (e.g. agent log tails). */
  context?: () => string;
}

/**
 * Poll `probe` until it returns something other than undefined/false, or fail at the deadline
 * with `what`, the last value seen (or error thrown) and the context.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `waited ${Date.now() - start} ms for: ${what}\nlast observation: ${typeof last === 'string' ? last : JSON.stringify(last)}` +
          (opts.context ? `\n${opts.context()}` : ''),
      );
    }
    await sleep(opts.intervalMs ?? 200);
  }
}

/** GET/PUT with a hard per-request timeout. Returns status and text; network errors throw. */
export async function http(
  url: string,
  opts: { method?: string; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    body: opts.body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 3000),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The agent's view of the Raft leader ("" when it knows none). Throws if the agent does not answer. */
export async function leaderOf(httpAddr: string): Promise<string> {
  const r = await http(`http://${httpAddr}/v1/status/leader`, { timeoutMs: 2000 });
  if (r.status !== 200) throw new Error(`/v1/status/leader on ${httpAddr}: HTTP ${r.status} ${r.text}`);
  return JSON.parse(r.text) as string;
}

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}
export interface DigResult {
  status: string;
  answer: DigRecord[];
  additional: DigRecord[];
  raw: string;
}

/** Real `dig @server -p port name type`, parsed into sections. */
export async function dig(server: string, port: number, name: string, type: string, netns?: string): Promise<DigResult> {
  const r = await runCommand('dig', [`@${server}`, '-p', String(port), name, type, '+time=2', '+tries=1'], { timeoutMs: 8000, netns });
  const raw = r.stdout;
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? `no answer (dig exit ${r.code}: ${raw.trim().split('\n').pop() ?? ''})`;
  const out: DigResult = { status, answer: [], additional: [], raw };
  let section: 'answer' | 'additional' | null = null;
  for (const line of raw.split('\n')) {
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.startsWith(';;') || line.trim() === '') section = line.trim() === '' ? null : section;
    else if (section && !line.startsWith(';')) {
      const [rname, ttl, , rtype, ...data] = line.split(/\s+/);
      out[section].push({ name: rname!, ttl: Number(ttl), type: rtype!, data: data.join(' ') });
    }
  }
  return out;
}

/** Fail fast, with the fix, when something else already holds a port a test needs. */
export async function assertPortsFree(ip: string, ports: number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `${ip}:${port} is already in use (${err.code}); another agent or test is running there — stop it (e.g. ss -ltnp | grep ${ip}:${port}) and re-run`,
          ),
        ),
      );
      srv.listen(port, ip, () => srv.close(() => resolve()));
    });
  }
}

/** Parse `muster info` output into "section.key" → value. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const line of text.split('\n')) {
    const sec = /^(\S[^:]*):\s*$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const kv = /^\s+([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (kv && section) out[`${section}.${kv[1]}`] = kv[2]!.trim();
  }
  return out;
}

export interface MemberRow {
  node: string;
  address: string;
  status: string;
  type: string;
}

/** Parse `muster members` table rows. */
export function parseMembers(text: string): MemberRow[] {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [node, address, status, type] = l.trim().split(/\s+/);
      return { node: node!, address: address!, status: status!, type: type! };
    });
}
