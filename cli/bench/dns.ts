// cli/bench/dns.ts — `muster bench dns`: DNS queries per second, Muster against knot.
//
// Owns: serving the walkthrough's records (web3 on n2 and n3) from one Muster DNS server
// (transports/dns-server.ts + core/dns over the catalog FSM) and from knot (Debian `knot`)
// with the same zone, driving each with dnsperf (Debian `dnsperf`) for SRV and A queries in
// the same run, and printing queries/s and the Muster/knot ratio (goal ≥ 0.5).
// Must never: fail on a timing, leave knotd running, or touch anything but 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { answerQuery } from '../../core/dns/answer.ts';
import { DnsAnswerCache } from '../../core/dns/cache.ts';
import { makeDnsConfig } from '../../core/dns/config.ts';
import { buildQuery } from '../../core/dns/query.ts';
import { readMessage } from '../../core/dns/wire.ts';
import { makeRng } from '../../core/rng.ts';
import { startDnsServer, type DnsServer } from '../../transports/dns-server.ts';

const IP = '127.0.0.1';

const QUERIES = [
  { label: 'SRV web3.service.consul', line: 'web3.service.consul SRV', name: 'web3.service.consul', type: 'SRV' as const },
  { label: 'A   n2.node.dc1.consul', line: 'n2.node.dc1.consul A', name: 'n2.node.dc1.consul', type: 'A' as const },
];

const ZONE = `$ORIGIN consul.
$TTL 0
@               IN SOA ns.consul. postmaster.consul. 1 3600 600 86400 0
@               IN NS  ns
ns              IN A   127.0.0.1
web3.service    IN SRV 1 1 10000 n2.node.dc1
web3.service    IN SRV 1 1 10000 n3.node.dc1
n2.node.dc1     IN A   127.0.0.1
n3.node.dc1     IN A   127.0.0.1
`;

interface Options {
  durationS: number;
  clients: number;
  rounds: number;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { durationS: 3, clients: 20, rounds: 3 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = Number(args[i + 1]);
    if (a === '--duration' && Number.isInteger(v) && v > 0 && v <= 600) {
      o.durationS = v;
      i++;
    } else if (a === '--clients' && Number.isInteger(v) && v > 0 && v <= 1000) {
      o.clients = v;
      i++;
    } else if (a === '--rounds' && Number.isInteger(v) && v > 0 && v <= 50) {
      o.rounds = v;
      i++;
    } else {
      return `bench dns: unknown or bad option '${a}'. Options: --duration SECONDS per run (default 3), --clients N (default 20), --rounds N (default 3)`;
    }
  }
  return o;
}

function have(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error;
}

/** The walkthrough's catalog: n1 (no web3), web3 on n2 and n3 with passing checks. */
function walkthroughCatalog(): CatalogFSM {
  const fsm = new CatalogFSM();
  let index = 1;
  const nodes: [string, string][] = [['n1', '10.10.105.71'], ['n2', '10.10.126.101'], ['n3', '10.10.126.187']];
  for (const [node, address] of nodes) {
    const r = fsm.apply(index++, {
      op: 'register',
      nowMs: 0,
      node: { Node: node, Address: address },
      checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' }],
      ...(node === 'n1'
        ? {}
        : { service: { ID: 'web3', Service: 'web3', Tags: ['master'], Address: '127.0.0.1', Port: 10000 } }),
    });
    if (!r.ok) throw new Error(`bench dns: could not register ${node}: ${r.error}`);
    if (node !== 'n1') {
      const c = fsm.apply(index++, {
        op: 'register',
        nowMs: 0,
        node: { Node: node, Address: address },
        checks: [{ CheckID: 'service:web3', Name: "Service 'web3' check", Status: 'passing', ServiceID: 'web3' }],
      });
      if (!c.ok) throw new Error(`bench dns: could not register the web3 check on ${node}: ${c.error}`);
    }
  }
  return fsm;
}

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, IP, () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, IP, () => s.close(() => resolve(true)));
    });
    udp.close();
    if (tcpFree) return port;
  }
  throw new Error('bench dns: found no free port on 127.0.0.1');
}

/** One UDP query; answers count and reply size, to show both servers answer alike. */
async function probe(port: number, name: string, type: 'SRV' | 'A'): Promise<{ answers: number; additionals: number; bytes: number } | null> {
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      sock.on('message', (msg) => {
        clearTimeout(timer);
        try {
          const m = readMessage(new Uint8Array(msg));
          resolve({ answers: m.answers.length, additionals: m.additionals.length, bytes: msg.length });
        } catch {
          resolve(null);
        }
      });
      sock.send(buildQuery(name, type, { id: 99 }), port, IP);
    });
  } finally {
    sock.close();
  }
}

async function dnsperf(port: number, dataFile: string, o: Options): Promise<{ qps: number; lostPct: number } | string> {
  const args = ['-s', IP, '-p', String(port), '-d', dataFile, '-l', String(o.durationS), '-c', String(o.clients), '-q', '200', '-t', '2'];
  return new Promise((resolve) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 30) * 1000);
    child.on('close', () => {
      clearTimeout(kill);
      const qps = /Queries per second:\s+([\d.]+)/.exec(out);
      const lost = /Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out);
      if (!qps) resolve(`dnsperf printed no rate:\n${out.slice(-500)}`);
      else resolve({ qps: Number(qps[1]), lostPct: lost ? Number(lost[1]) : 0 });
    });
  });
}

async function startKnot(dir: string, port: number): Promise<{ stop: () => Promise<void> } | string> {
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'consul.zone'), ZONE);
  const conf = join(dir, 'knot.conf');
  writeFileSync(
    conf,
    `server:
    rundir: "${join(dir, 'run')}"
    listen: ${IP}@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "${join(dir, 'db')}"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "${dir}"
    file: "%s.zone"
zone:
  - domain: consul
`,
  );
  const child = spawn('knotd', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) return `knotd exited: ${err.trim()}`;
    const p = await probe(port, 'web3.service.consul', 'SRV');
    if (p && p.answers === 2) return { stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  return `knotd did not answer on ${IP}:${port} within 5 s: ${err.trim()}`;
}

export async function benchDns(args: string[]): Promise<number> {
  const say = (s: string): void => void process.stdout.write(s);
  const o = parseArgs(args);
  if (typeof o === 'string') {
    say(`${o}\n`);
    return 1;
  }
  const missing = [have('dnsperf', ['-h']) ? null : 'dnsperf', have('knotd', ['-V']) ? null : 'knot'].filter((x): x is string => x !== null);
  if (missing.length > 0) {
    say(
      `bench dns: skipped — needs ${missing.join(' and ')}.\n` +
        `  Install with: apt-get install -y dnsperf knot\n` +
        `  (dnsperf drives the load; knot serves the same records as the baseline.)\n`,
    );
    return 0;
  }

  const dir = mkdtempSync(join(tmpdir(), 'muster-bench-dns-'));
  let muster: DnsServer | null = null;
  let knot: { stop: () => Promise<void> } | null = null;
  try {
    const view = walkthroughCatalog();
    const config = makeDnsConfig();
    const rng = makeRng('bench-dns');
    const cache = new DnsAnswerCache();
    muster = await startDnsServer({
      ip: IP,
      port: 0,
      answer: (bytes, transport) => answerQuery(bytes, { view, config, rng, transport, datacenter: 'dc1', cache }),
    });
    const knotPort = await freePort();
    const k = await startKnot(dir, knotPort);
    if (typeof k === 'string') {
      say(`bench dns: could not start the knot baseline: ${k}\n`);
      return 0;
    }
    knot = k;

    say(
      `dnsperf ${o.durationS} s per run, ${o.clients} clients, UDP on ${IP}, ${o.rounds} alternating rounds (medians); ` +
        `knot with 1 UDP worker (Muster's server is one event loop)\n`,
    );
    for (const q of QUERIES) {
      const a = await probe(muster.port, q.name, q.type);
      const b = await probe(knotPort, q.name, q.type);
      say(
        `  ${q.label}: muster ${a ? `${a.answers} answers + ${a.additionals} additional, ${a.bytes} B` : 'no answer'}; ` +
          `knot ${b ? `${b.answers} answers + ${b.additionals} additional, ${b.bytes} B` : 'no answer'}\n`,
      );
    }
    say(`\n${'query'.padEnd(26)}${'muster q/s'.padStart(12)}${'knot q/s'.padStart(12)}${'muster/knot'.padStart(13)}   per-round ratios\n`);
    const median = (xs: number[]): number => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    for (const q of QUERIES) {
      const data = join(dir, `${q.type}.txt`);
      writeFileSync(data, `${q.line}\n`);
      const mq: number[] = [];
      const kq: number[] = [];
      const ratios: number[] = [];
      let failure = '';
      // Alternate the two servers so a burst of load elsewhere on the machine hits both.
      for (let r = 0; r < o.rounds && failure === ''; r++) {
        const m = await dnsperf(muster.port, data, o);
        const kn = await dnsperf(knotPort, data, o);
        if (typeof m === 'string' || typeof kn === 'string') {
          failure = `${typeof m === 'string' ? m : ''}${typeof kn === 'string' ? kn : ''}`;
          break;
        }
        mq.push(m.qps);
        kq.push(kn.qps);
        ratios.push(kn.qps > 0 ? m.qps / kn.qps : 0);
      }
      if (failure !== '') {
        say(`${q.label}: ${failure}\n`);
        continue;
      }
      say(
        `${q.label.padEnd(26)}${median(mq).toFixed(0).padStart(12)}${median(kq).toFixed(0).padStart(12)}` +
          `${median(ratios).toFixed(2).padStart(13)}   ${ratios.map((x) => x.toFixed(2)).join(' ')}\n`,
      );
    }
    say(`goal: muster/knot ≥ 0.50\n`);
    return 0;
  } catch (e) {
    say(`bench dns: ${e instanceof Error ? e.message : String(e)}\n`);
    return 0;
  } finally {
    if (knot) await knot.stop();
    if (muster) await muster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
