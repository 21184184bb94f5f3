// cli/bench/index.ts — `muster bench [name…]`: runs the benchmarks, each against a baseline
// measured in the same run. Benchmarks never run inside tests and never fail CI on a timing.

type Bench = (args: string[]) => Promise<number>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  sim: async () => (await import('./sim.ts')).benchSim,
  raft: async () => (await import('./raft.ts')).benchRaft,
  gossip: async () => (await import('./gossip.ts')).benchGossip,
  dns: async () => (await import('./dns.ts')).benchDns,
  http: async () => (await import('./http.ts')).benchHttp,
  cli: async () => (await import('./cli.ts')).benchCli,
  watch: async () => (await import('./watch.ts')).benchWatch,
  /** Needs etcd (Debian etcd-server) and ~4 minutes; run it by name. */
  kv: async () => (await import('./kv.ts')).benchKv,
  /** Three servers and 64 writers, about a minute. */
  latency: async () => (await import('./latency.ts')).benchLatency,
};

/** `all` runs the CI-free set that needs no external services. */
const ALL = ['sim', 'raft', 'gossip', 'http', 'dns', 'watch', 'cli', 'latency'];

export async function runBench(args: string[]): Promise<number> {
  const [name = 'all', ...rest] = args;
  const names = name === 'all' ? ALL : [name];
  let worst = 0;
  for (const n of names) {
    const load = BENCHES[n];
    if (!load) {
      process.stderr.write(`muster bench: unknown benchmark '${n}'. Known: ${Object.keys(BENCHES).join(', ')}, all\n`);
      return 1;
    }
    process.stdout.write(`\n== bench ${n} ==\n`);
    let bench: Bench;
    try {
      bench = await load();
    } catch (err) {
      process.stdout.write(`bench ${n}: not available in this build (${(err as Error).message.split('\n')[0]})\n`);
      continue;
    }
    const code = await bench(rest);
    worst = Math.max(worst, code);
  }
  return worst;
}
