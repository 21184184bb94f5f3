// cli/bench/cluster.ts — what `bench kv` and `bench latency` share: three real Muster servers
// as child processes, a keep-alive HTTP client with deadlines, and the KV write load generator.
//
// Owns: spawning/killing the benchmark's own processes (by PID), Muster's join and leader
// discovery, the closed-loop write load (N clients, 100-byte values, warm-up then measure).
// Must never: run inside tests, fail on a timing, or signal a process it did not start.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MUSTER_BIN = path.join(REPO, 'bin', 'muster.mjs');
const VALUE = 'v'.repeat(100);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// HTTP with keep-alive; every request has a deadline.

export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** Failover probes: never queue behind a socket held by a request the dead leader swallowed. */
export const unpooled = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export function request(
  url: string,
  method: string,
  body: string | undefined,
  timeoutMs: number,
  agent: http.Agent = keepAlive,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Muster as a system under test (bench kv adds etcd behind the same interface).

export interface Member {
  name: string;
  ip: string;
  args: string[];
  proc?: ChildProcess;
  exited?: Promise<void>;
}

export interface System {
  label: string;
  members: Member[];
  start(m: Member): void;
  /** The leader as this member sees it: a member, null (none known), or undefined (unreachable). */
  leaderSeenBy(m: Member): Promise<Member | null | undefined>;
  /** One acknowledged write (resolves true only on the system's success answer). */
  write(m: Member, key: string, timeoutMs: number, agent?: http.Agent): Promise<boolean>;
}

export class Procs {
  readonly all: ChildProcess[] = [];
  constructor(readonly logDir: string) {}

  spawn(m: Member, cmd: string, args: string[]): void {
    const log = fs.openSync(path.join(this.logDir, `${m.name}.log`), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    m.proc = child;
    m.exited = new Promise((r) => child.once('exit', () => r()));
    this.all.push(child);
  }

  async kill9(m: Member): Promise<void> {
    const p = m.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
    process.kill(p.pid, 'SIGKILL');
    await Promise.race([m.exited, sleep(10_000)]);
  }

  killAll(): void {
    for (const p of this.all) {
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}

export function musterSystem(procs: Procs, dir: string, opts: { net: string; cpuProfDir?: string | null; extraArgs?: string[] }): System {
  const cpuProfDir = opts.cpuProfDir ?? null;
  const members: Member[] = [2, 3, 4].map((i) => {
    const ip = `${opts.net}.${i}`;
    const name = `muster-s${i - 1}`;
    return {
      name,
      ip,
      args: ['agent', '-server', '-bootstrap-expect', '3', '-data-dir', path.join(dir, name), `-node=s${i - 1}`, `-bind=${ip}`, `-client=${ip}`, '-dc=dc1', '-log-level=warn', ...(opts.extraArgs ?? [])],
    };
  });
  return {
    label: 'muster',
    members,
    start: (m) =>
      procs.spawn(m, process.execPath, [
        ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${m.name}-${Date.now()}.cpuprofile`] : []),
        MUSTER_BIN,
        ...m.args,
      ]),
    async leaderSeenBy(m) {
      try {
        const r = await request(`http://${m.ip}:8500/v1/status/leader`, 'GET', undefined, 1000);
        if (r.status !== 200) return undefined;
        const addr = JSON.parse(r.text) as string;
        return addr === '' ? null : (members.find((x) => `${x.ip}:8300` === addr) ?? null);
      } catch {
        return undefined;
      }
    },
    async write(m, key, timeoutMs, agent) {
      const r = await request(`http://${m.ip}:8500/v1/kv/${key}`, 'PUT', VALUE, timeoutMs, agent);
      return r.status === 200 && r.text === 'true';
    },
  };
}

/** Poll until every running member names the same leader (and learn etcd's member ids). */
export async function waitLeader(sys: System, among: Member[], timeoutMs: number): Promise<Member> {
  const deadline = Date.now() + timeoutMs;
  let seen: Array<string | null | undefined> = [];
  while (Date.now() < deadline) {
    const views = await Promise.all(among.map((m) => sys.leaderSeenBy(m)));
    seen = views.map((v) => (v === undefined ? undefined : (v?.name ?? null)));
    const first = views[0];
    if (first && views.every((v) => v === first)) return first;
    await sleep(50);
  }
  throw new Error(`${sys.label}: no agreed leader within ${timeoutMs} ms (views: ${JSON.stringify(seen)})`);
}


/** Muster servers wait for `join` (bootstrap-expect 3); retried while they are still starting. */
export async function joinMuster(sys: System, timeoutMs = 30_000): Promise<void> {
  const [a, b, c] = sys.members as [Member, Member, Member];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = spawnSync(process.execPath, [MUSTER_BIN, 'join', `-http-addr=${a.ip}:8500`, b.ip, c.ip], { encoding: 'utf8', timeout: 15_000 });
    if (r.status === 0) return;
    if (Date.now() > deadline) throw new Error(`muster join failed: ${r.stdout}${r.stderr}`);
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------
// The write load.

export interface LoadResult {
  system: string;
  concurrency: number;
  writes: number;
  writesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function load(sys: System, target: Member, concurrency: number, seconds: number): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const client = async (c: number, stopAt: number, record: boolean): Promise<void> => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      try {
        const ok = await sys.write(target, `bench/${c}/${seq++}`, 5000);
        if (record) {
          if (ok) lat.push(performance.now() - t0);
          else errors++;
        }
      } catch {
        if (record) errors++;
      }
    }
  };
  // Warm-up: open the connections and let both sides settle.
  const warmStop = performance.now() + 1000;
  await Promise.all(Array.from({ length: concurrency }, (_, c) => client(c, warmStop, false)));
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, (_, c) => client(c, stopAt, true)));
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return {
    system: sys.label,
    concurrency,
    writes: lat.length,
    writesPerSec: lat.length / elapsed,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    errors,
  };
}

/**
 * Run `body` with a fresh temp dir and a process table; whatever happens (error, Ctrl-C) every
 * process it started is killed by PID and the dir removed (kept when MUSTER_KEEP_BENCH=1).
 * An error is printed as `muster bench NAME: …` with the logs' place, and gives exit code 1.
 */
export async function withProcs(name: string, body: (procs: Procs, dir: string) => Promise<number>): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `muster-bench-${name}-`));
  const procs = new Procs(dir);
  const onSignal = () => {
    procs.killAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(procs, dir);
  } catch (err) {
    process.stderr.write(`muster bench ${name}: ${(err as Error).message}\n(logs in ${dir})\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    procs.killAll();
    keepAlive.destroy();
    unpooled.destroy();
    await sleep(300);
    if (process.env.MUSTER_KEEP_BENCH !== '1') fs.rmSync(dir, { recursive: true, force: true });
  }
}
