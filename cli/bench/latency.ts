// cli/bench/latency.ts — `muster bench latency`: DNS SRV latency of a Muster server while 64
// clients write KV through it, against the same server idle, in the same run.
//
// Owns: a 3-server cluster (cluster.ts), the walkthrough's web3 on two nodes, an open-loop DNS
// prober (one SRV query every 1000/qps ms over UDP, matched by id, a lost query counted at its
// timeout) aimed at the leader and at one follower, alternating idle and loaded rounds so drift
// on the shared machine hits both alike, and the report (p50/p99 per phase, loaded p99 / idle
// p99 per server, goal ≤ 2), ending with one JSON line.
// Must never: run inside tests, fail on a timing, or signal a process it did not start.
//
// Addresses: Muster on 127.22.10.2-4 (Consul's default ports), the prober on 127.22.10.1.
import dgram from 'node:dgram';
import { buildQuery } from '../../core/dns/query.ts';
import { readMessage } from '../../core/dns/wire.ts';
import { joinMuster, load, musterSystem, quantile, request, sleep, waitLeader, withProcs, type Member, type Procs, type System } from './cluster.ts';

const NET = '127.22.10';
const PROBE_IP = `${NET}.1`;
const QUESTION = 'web3.service.consul';
const LOST_MS = 1000;

interface Options {
  seconds: number;
  rounds: number;
  clients: number;
  qps: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = { seconds: 5, rounds: 3, clients: 64, qps: 200 };
  for (const a of args) {
    const m = /^--(seconds|rounds|clients|qps)=(.+)$/.exec(a);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(v) || v <= 0 || (m[1] !== 'seconds' && !Number.isInteger(v))) {
      throw new Error(`bad argument '${a}'; usage: muster bench latency [--seconds=5] [--rounds=3] [--clients=64] [--qps=200] (positive numbers)`);
    }
    o[m[1] as keyof Options] = v;
  }
  return o;
}

interface Probe {
  lat: number[];
  lost: number;
  bad: number;
}

/** Query `server`:8600 every 1000/qps ms for `ms`; a query unanswered after LOST_MS is lost. */
async function probeDns(sock: dgram.Socket, server: string, qps: number, ms: number): Promise<Probe> {
  const out: Probe = { lat: [], lost: 0, bad: 0 };
  const sent = new Map<number, number>();
  let id = Math.floor(Math.random() * 0xffff);
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (rinfo.address !== server) return;
    let m;
    try {
        m = readMessage(msg);
      } catch {
        out.bad++;
        return;
      }
      const t0 = sent.get(m.header.id);
      if (t0 === undefined) return;
      sent.delete(m.header.id);
      if (m.header.rcode !== 0 || m.answers.length === 0) out.bad++;
      else out.lat.push(performance.now() - t0);
    };
    sock.on('message', onMessage);
    const stopAt = performance.now() + ms;
    const gapMs = 1000 / qps;
    let next = performance.now();
    while (performance.now() < stopAt) {
      id = (id + 1) & 0xffff;
      sent.set(id, performance.now());
      sock.send(buildQuery(QUESTION, 'SRV', { id, rd: false }), 8600, server);
      next += gapMs;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(LOST_MS);
    sock.off('message', onMessage);
    out.lost = sent.size;
    return out;
  }

  /** Lost queries count at LOST_MS, so they can only make the figure worse. */
  function figures(p: Probe): { n: number; p50Ms: number; p99Ms: number; lost: number; bad: number } {
    const all = [...p.lat, ...Array<number>(p.lost).fill(LOST_MS)].sort((a, b) => a - b);
    return { n: all.length, p50Ms: quantile(all, 0.5), p99Ms: quantile(all, 0.99), lost: p.lost, bad: p.bad };
  }

  async function registerWeb3(leader: Member): Promise<void> {
    for (const [node, addr] of [['n2', '10.10.126.101'], ['n3', '10.10.126.187']] as const) {
      const body = JSON.stringify({
        Node: node,
        Address: addr,
        Service: { ID: 'web3', Service: 'web3', Tags: ['master'], Address: '127.0.0.1', Port: 10000 },
        Checks: [{ CheckID: 'service:web3', Name: "Service 'web3' check", Status: 'passing', ServiceID: 'web3' }],
      });
      const r = await request(`http://${leader.ip}:8500/v1/catalog/register`, 'PUT', body, 5000);
      if (r.status !== 200) throw new Error(`registering web3 on ${node}: HTTP ${r.status} ${r.text}`);
    }
  }

  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

  export async function benchLatency(args: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(args);
  } catch (err) {
    process.stderr.write(`muster bench latency: ${(err as Error).message}\n`);
    return 1;
  }
  return withProcs('latency', async (procs, dir) => {
    const sock = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', (err) => reject(new Error(`cannot bind the DNS prober on ${PROBE_IP}: ${err.message}`)));
        sock.bind(0, PROBE_IP, () => resolve());
      });
      return await measure(procs, dir, sock, opts);
    } finally {
      sock.close();
    }
  });
}

async function measure(procs: Procs, dir: string, sock: dgram.Socket, opts: Options): Promise<number> {
  const sys: System = musterSystem(procs, dir, { net: NET });
  process.stdout.write(`starting 3 muster servers on ${NET}.2-4 (data and logs in ${dir})\n`);
  for (const m of sys.members) sys.start(m);
  await joinMuster(sys);
  const leader = await waitLeader(sys, sys.members, 60_000);
  const follower = sys.members.find((m) => m !== leader)!;
  await registerWeb3(leader);
  const probeMs = opts.seconds * 1000;
  const probeBoth = () => Promise.all([probeDns(sock, leader.ip, opts.qps, probeMs), probeDns(sock, follower.ip, opts.qps, probeMs)]);
  // Each round: both servers probed idle, then while the clients write to the leader.
  const acc = { idle: { leader: [] as Probe[], follower: [] as Probe[] }, loaded: { leader: [] as Probe[], follower: [] as Probe[] } };
  const writes: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const [li, fi] = await probeBoth();
    acc.idle.leader.push(li);
    acc.idle.follower.push(fi);
    // load() warms up for 1 s, then measures for `seconds`; the probes run inside that window.
    const writing = load(sys, leader, opts.clients, opts.seconds + 0.5);
    await sleep(1000);
    const [ll, fl] = await probeBoth();
    const w = await writing;
    acc.loaded.leader.push(ll);
    acc.loaded.follower.push(fl);
    writes.push(w.writesPerSec);
    const line = (p: Probe) => {
      const f = figures(p);
      return `p50 ${fmt(f.p50Ms)} p99 ${fmt(f.p99Ms)} ms${f.lost ? ` lost ${f.lost}` : ''}`;
    };
    process.stdout.write(
      `  round ${r + 1}/${opts.rounds}: idle leader ${line(li)}, follower ${line(fi)} | ${opts.clients} writers (${w.writesPerSec.toFixed(0)} writes/s, errors ${w.errors}): leader ${line(ll)}, follower ${line(fl)}\n`,
    );
  }
  const merge = (ps: Probe[]): Probe => ({ lat: ps.flatMap((p) => p.lat), lost: ps.reduce((n, p) => n + p.lost, 0), bad: ps.reduce((n, p) => n + p.bad, 0) });
  const res = {
    idle: { leader: figures(merge(acc.idle.leader)), follower: figures(merge(acc.idle.follower)) },
    loaded: { leader: figures(merge(acc.loaded.leader)), follower: figures(merge(acc.loaded.follower)) },
  };
  const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? Number((a / b).toFixed(2)) : null);
  process.stdout.write(`\nDNS SRV ${QUESTION} over UDP, ${opts.qps} queries/s per server, ${opts.rounds} rounds of ${opts.seconds} s per phase:\n`);
  process.stdout.write('  server    phase    queries   p50 ms   p99 ms  lost  bad\n');
  for (const phase of ['idle', 'loaded'] as const) {
    for (const who of ['leader', 'follower'] as const) {
      const f = res[phase][who];
      process.stdout.write(
        `  ${who.padEnd(9)} ${phase.padEnd(7)} ${String(f.n).padStart(8)} ${fmt(f.p50Ms).padStart(8)} ${fmt(f.p99Ms).padStart(8)} ${String(f.lost).padStart(5)} ${String(f.bad).padStart(4)}\n`,
      );
    }
  }
  const ratios = {
    leader_p99_loaded_vs_idle: ratio(res.loaded.leader.p99Ms, res.idle.leader.p99Ms),
    follower_p99_loaded_vs_idle: ratio(res.loaded.follower.p99Ms, res.idle.follower.p99Ms),
  };
  process.stdout.write(`\nRatios (loaded p99 / idle p99; goal ≤ 2):\n`);
  for (const [k, v] of Object.entries(ratios)) process.stdout.write(`  ${k.padEnd(28)} ${v ?? 'n/a'}\n`);
  const writesPerSec = Math.round(writes.reduce((a, b) => a + b, 0) / writes.length);
  const summary = { bench: 'latency', clients: opts.clients, qps: opts.qps, seconds: opts.seconds, rounds: opts.rounds, writesPerSec, ...res, ratios, goal: 'loaded p99 <= 2 x idle p99' };
  process.stdout.write(`\n${JSON.stringify(summary)}\n`);
  return 0;
}
