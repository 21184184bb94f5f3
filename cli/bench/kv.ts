// cli/bench/kv.ts — `muster bench kv`: KV write throughput/latency and leader failover of a
// 3-server Muster cluster beside a 3-member etcd cluster, both on loopback, both driven by the
// same load generator in the same run; figures are reported as ratios against etcd.
//
// Owns: starting/stopping both clusters as child processes (killed by PID, data in a temp dir),
// the keep-alive write load generator (1 and 64 concurrent clients), the failover trials
// (kill -9 the leader; time to a new leader and to the next acknowledged write) and the report,
// ending with one JSON line. --cpu-prof=DIR profiles the Muster servers under the load instead
// (no etcd, no failover) and prints each profile's top entries.
// Must never: run inside tests, fail on a timing, or signal a process it did not start.
//
// Addresses: Muster on 127.0.10.2-4 (Consul's default ports), etcd on 127.0.11.2-4 (2379/2380).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  joinMuster,
  load,
  musterSystem,
  quantile,
  REPO,
  request,
  sleep,
  unpooled,
  waitLeader,
  withProcs,
  type LoadResult,
  type Member,
  type Procs,
  type System,
} from './cluster.ts';

const VALUE = 'v'.repeat(100);

interface Options {
  seconds: number;
  trials: number;
  concurrency: number[];
  /** Profile the Muster servers (node --cpu-prof) into this folder; Muster only, no failover. */
  cpuProfDir: string | null;
}

function parseArgs(args: string[]): Options {
  const o: Options = { seconds: 5, trials: 15, concurrency: [1, 64], cpuProfDir: null };
  for (const a of args) {
    const m = /^--(seconds|trials|concurrency|cpu-prof)=(.+)$/.exec(a);
    if (!m) throw new Error(`unknown argument '${a}'; usage: muster bench kv [--seconds=5] [--trials=15] [--concurrency=1,64] [--cpu-prof=DIR]`);
    if (m[1] === 'cpu-prof') {
      o.cpuProfDir = path.resolve(m[2]!);
    } else if (m[1] === 'concurrency') {
      o.concurrency = m[2]!.split(',').map(Number);
      if (o.concurrency.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--concurrency needs positive integers, got '${m[2]}'`);
    } else {
      const v = Number(m[2]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--${m[1]} needs a positive number, got '${m[2]}'`);
      o[m[1] as 'seconds' | 'trials'] = v;
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// The two systems behind one interface.

function etcdSystem(procs: Procs, dir: string): System {
  const ips = [2, 3, 4].map((i) => `127.0.11.${i}`);
  const cluster = ips.map((ip, i) => `e${i + 1}=http://${ip}:2380`).join(',');
  const members: Member[] = ips.map((ip, i) => ({
    name: `etcd-e${i + 1}`,
    ip,
    args: [
      `--name=e${i + 1}`,
      `--data-dir=${path.join(dir, `etcd-e${i + 1}`)}`,
      `--listen-client-urls=http://${ip}:2379`,
      `--advertise-client-urls=http://${ip}:2379`,
      `--listen-peer-urls=http://${ip}:2380`,
      `--initial-advertise-peer-urls=http://${ip}:2380`,
      `--initial-cluster=${cluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=muster-bench',
      '--logger=zap',
      '--log-level=error',
    ],
  }));
  const idOf = new Map<string, Member>();
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    label: 'etcd',
    members,
    start: (m) => procs.spawn(m, 'etcd', m.args),
    async leaderSeenBy(m) {
      try {
        const r = await request(`http://${m.ip}:2379/v3/maintenance/status`, 'POST', '{}', 1000);
        if (r.status !== 200) return undefined;
        const s = JSON.parse(r.text) as { header: { member_id: string }; leader?: string };
        idOf.set(s.header.member_id, m);
        if (!s.leader || s.leader === '0') return null;
        return idOf.get(s.leader) ?? null;
      } catch {
        return undefined;
      }
    },
    async write(m, key, timeoutMs, agent) {
      const body = JSON.stringify({ key: b64(key), value: b64(VALUE) });
      const r = await request(`http://${m.ip}:2379/v3/kv/put`, 'POST', body, timeoutMs, agent);
      return r.status === 200 && r.text.includes('"header"');
    },
  };
}

interface FailoverResult {
  system: string;
  trials: number;
  leaderMs: number[];
  writeMs: number[];
  failedTrials: number;
}

/** Kill -9 the leader; time until a survivor names a new leader and until a write succeeds. */
async function failoverTrial(sys: System, procs: Procs): Promise<{ leaderMs: number; writeMs: number }> {
  const old = await waitLeader(sys, sys.members, 60_000);
  const survivors = sys.members.filter((m) => m !== old);
  // Let the followers' connections to the leader settle (a fresh restart may be catching up).
  for (let i = 0; i < 3; i++) await sys.write(old, `failover/warm/${i}`, 2000).catch(() => false);
  const t0 = performance.now();
  await procs.kill9(old);
  const deadline = t0 + 30_000;
  let leaderMs = -1;
  let writeMs = -1;
  const leaderWatch = (async () => {
    while (performance.now() < deadline) {
      const views = await Promise.all(survivors.map((m) => sys.leaderSeenBy(m)));
      if (views.some((v) => v && v !== old)) {
        leaderMs = performance.now() - t0;
        return;
      }
      await sleep(5);
    }
  })();
  // A new attempt every 25 ms, each allowed to wait long: a write that blocks until the new
  // leader is in place (as etcd's do) counts when it completes, not when a client gives up.
  const writeWatch = new Promise<void>((resolve) => {
    let i = 0;
    let outstanding = 0;
    const tick = setInterval(() => {
      if (writeMs >= 0 || performance.now() >= deadline) {
        clearInterval(tick);
        resolve();
        return;
      }
      if (outstanding >= 400) return;
      const m = survivors[i % survivors.length]!;
      const key = `failover/${i++}`;
      outstanding++;
      sys
        .write(m, key, 10_000, unpooled)
        .then((ok) => {
          if (ok && writeMs < 0) writeMs = performance.now() - t0;
        })
        .catch(() => undefined)
        .finally(() => outstanding--);
    }, 25);
  });
  await Promise.all([leaderWatch, writeWatch]);
  // Bring the old leader back with its data and wait for a whole cluster again.
  sys.start(old);
  await waitLeader(sys, sys.members, 60_000);
  if (leaderMs < 0 || writeMs < 0) throw new Error(`${sys.label}: no new leader/write within 30 s of killing ${old.name}`);
  return { leaderMs, writeMs };
}

async function failover(sys: System, procs: Procs, trials: number): Promise<FailoverResult> {
  const out: FailoverResult = { system: sys.label, trials, leaderMs: [], writeMs: [], failedTrials: 0 };
  for (let t = 0; t < trials; t++) {
    try {
      const r = await failoverTrial(sys, procs);
      out.leaderMs.push(r.leaderMs);
      out.writeMs.push(r.writeMs);
      process.stdout.write(`  ${sys.label} failover trial ${t + 1}/${trials}: leader ${r.leaderMs.toFixed(0)} ms, write ${r.writeMs.toFixed(0)} ms\n`);
    } catch (err) {
      out.failedTrials++;
      process.stdout.write(`  ${sys.label} failover trial ${t + 1}/${trials}: FAILED ${(err as Error).message}\n`);
    }
  }
  return out;
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const p90 = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.9);
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Number((a / b).toFixed(2)) : null);

function etcdMissing(): string | null {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return [
      'etcd is not installed, so there is no baseline to compare against. Install it and re-run:',
      '  Debian/Ubuntu: sudo apt-get install -y etcd-server etcd-client',
      '  elsewhere:     https://github.com/etcd-io/etcd/releases (put `etcd` on PATH)',
    ].join('\n');
  }
  return null;
}

/** Stop the profiled servers gracefully (SIGTERM: V8 writes the profile at exit) and print the top entries. */
async function writeProfiles(sys: System, leader: Member, profDir: string): Promise<number> {
  for (const m of sys.members) if (m.proc?.pid !== undefined && m.proc.exitCode === null) process.kill(m.proc.pid, 'SIGTERM');
  await Promise.race([Promise.all(sys.members.map((m) => m.exited)), sleep(20_000)]);
  const { topEntries, formatTop } = (await import(path.join(REPO, 'scripts', 'cpuprofile-top.mjs'))) as {
    topEntries(p: unknown[], o: { top: number; byFile?: boolean }): unknown;
    formatTop(r: unknown): string;
  };
  const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort();
  for (const m of sys.members) {
    const mine = files.filter((f) => f.startsWith(`${m.name}-`));
    if (mine.length === 0) continue;
    const prof = JSON.parse(fs.readFileSync(path.join(profDir, mine[mine.length - 1]!), 'utf8')) as unknown;
    process.stdout.write(`\n${m.name}${m === leader ? ' (leader)' : ''} (${path.join(profDir, mine[mine.length - 1]!)}):\n${formatTop(topEntries([prof], { top: 30 }))}\n`);
  }
  return 0;
}

export async function benchKv(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(args);
  } catch (err) {
    process.stderr.write(`muster bench kv: ${(err as Error).message}\n`);
    return 1;
  }
  const missing = etcdMissing();
  if (missing) process.stdout.write(`${missing}\nRunning the Muster half only.\n`);
  return withProcs('kv', async (procs, dir) => {
    const profiling = opts.cpuProfDir !== null;
    if (profiling) fs.mkdirSync(opts.cpuProfDir!, { recursive: true });
    const systems = [musterSystem(procs, dir, { net: '127.0.10', cpuProfDir: opts.cpuProfDir }), ...(missing || profiling ? [] : [etcdSystem(procs, dir)])];
    process.stdout.write(`starting ${systems.map((s) => `3 ${s.label}`).join(' + ')} on loopback (data and logs in ${dir})\n`);
    for (const s of systems) for (const m of s.members) s.start(m);
    const mu = systems[0]!;
    await joinMuster(mu);
    const leaders = new Map<string, Member>();
    for (const s of systems) leaders.set(s.label, await waitLeader(s, s.members, 60_000));

    // Interleave the systems at each concurrency so drift on the machine hits both alike.
    const loads: LoadResult[] = [];
    for (const c of opts.concurrency) {
      for (const s of systems) {
        const target = await waitLeader(s, s.members, 30_000);
        const r = await load(s, target, c, opts.seconds);
        loads.push(r);
        process.stdout.write(
          `  ${s.label.padEnd(6)} c=${String(c).padEnd(3)} ${fmt(r.writesPerSec).padStart(6)} writes/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  errors ${r.errors}\n`,
        );
      }
    }
    if (profiling) return await writeProfiles(mu, await waitLeader(mu, mu.members, 30_000), opts.cpuProfDir!);
    const fails: FailoverResult[] = [];
    for (const s of systems) fails.push(await failover(s, procs, opts.trials));

    // Report.
    const get = (sys: string, c: number) => loads.find((l) => l.system === sys && l.concurrency === c);
    process.stdout.write('\nKV writes (to the leader, 100-byte values, keep-alive HTTP):\n');
    process.stdout.write('  system  clients  writes/s   p50 ms   p99 ms\n');
    for (const l of loads) {
      process.stdout.write(
        `  ${l.system.padEnd(7)} ${String(l.concurrency).padStart(7)} ${fmt(l.writesPerSec).padStart(9)} ${fmt(l.p50Ms, 2).padStart(8)} ${fmt(l.p99Ms, 2).padStart(8)}\n`,
      );
    }
    process.stdout.write('\nLeader failover (kill -9 the leader):\n');
    for (const f of fails) {
      process.stdout.write(
        `  ${f.system.padEnd(7)} trials ${f.leaderMs.length}/${f.trials}  new leader median ${fmt(median(f.leaderMs))} ms (p90 ${fmt(p90(f.leaderMs))})  next write median ${fmt(median(f.writeMs))} ms (p90 ${fmt(p90(f.writeMs))})\n`,
      );
    }
    const summary: Record<string, unknown> = { bench: 'kv', seconds: opts.seconds, trials: opts.trials };
    for (const l of loads) {
      summary[`${l.system}_c${l.concurrency}`] = {
        writesPerSec: Math.round(l.writesPerSec),
        p50Ms: Number(l.p50Ms.toFixed(2)),
        p99Ms: Number(l.p99Ms.toFixed(2)),
        errors: l.errors,
      };
    }
    for (const f of fails) {
      summary[`${f.system}_failover`] = {
        trials: f.leaderMs.length,
        failed: f.failedTrials,
        leaderMedianMs: Math.round(median(f.leaderMs)),
        writeMedianMs: Math.round(median(f.writeMs)),
        leaderP90Ms: Math.round(p90(f.leaderMs)),
        writeP90Ms: Math.round(p90(f.writeMs)),
      };
    }
    if (!missing) {
      const ratios: Record<string, number | null> = {};
      process.stdout.write('\nRatios (Muster vs etcd; writes/s: >1 is faster; latency and failover: etcd/Muster, >1 is faster, goal ≥2 for failover):\n');
      for (const c of opts.concurrency) {
        const m = get('muster', c)!;
        const e = get('etcd', c)!;
        ratios[`writes_c${c}`] = ratio(m.writesPerSec, e.writesPerSec);
        ratios[`p50_c${c}`] = ratio(e.p50Ms, m.p50Ms);
        ratios[`p99_c${c}`] = ratio(e.p99Ms, m.p99Ms);
      }
      const [fm, fe] = [fails[0]!, fails[1]!];
      ratios['failover_leader'] = ratio(median(fe.leaderMs), median(fm.leaderMs));
      ratios['failover_write'] = ratio(median(fe.writeMs), median(fm.writeMs));
      for (const [k, v] of Object.entries(ratios)) process.stdout.write(`  ${k.padEnd(16)} ${v ?? 'n/a'}\n`);
      summary['ratios'] = ratios;
    } else {
      summary['ratios'] = null;
      summary['etcd'] = 'not installed';
    }
    process.stdout.write(`\n${JSON.stringify(summary)}\n`);
    return 0;
  });
}
