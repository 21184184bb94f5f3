// cli/bench/sim.ts — `muster bench sim`: how fast the simulated world runs, against a bare
// priority-queue baseline measured in the same run.
//
// Owns: running a fixed busy world (sim/demo-world.ts: datagrams with loss, streams, timers,
// disk appends, partitions, crash/restart, stalls) and reporting delivered events/s,
// simulated seconds per wall second, and the overhead per event versus the same number of
// bare heap pushes and pops of similar records.
// Must never: run inside tests, or fail on a timing (exit code is 0 unless the args are bad).
import { performance } from 'node:perf_hooks';
import { buildChattyWorld } from '../../sim/demo-world.ts';
import { MinHeap } from '../../sim/heap.ts';
import { SimEvent, type EventType } from '../../sim/kernel.ts';
import { makeRng } from '../../core/rng.ts';

interface Opts {
  hosts: number;
  seconds: number;
  seed: string;
  trace: boolean;
}

function parse(args: string[]): Opts | string {
  const o: Opts = { hosts: 200, seconds: 60, seed: 'bench-sim', trace: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (a === '--trace') o.trace = true;
    else if (a === '--hosts' && v !== undefined) (o.hosts = Number(v)), i++;
    else if (a === '--seconds' && v !== undefined) (o.seconds = Number(v)), i++;
    else if (a === '--seed' && v !== undefined) (o.seed = v), i++;
    else return `unknown or incomplete argument '${a}'`;
  }
  if (!Number.isInteger(o.hosts) || o.hosts < 2 || o.hosts > 60000) return `--hosts must be an integer 2..60000, got ${o.hosts}`;
  if (!(o.seconds > 0)) return `--seconds must be > 0, got ${o.seconds}`;
  return o;
}

const NOOP: EventType = { name: 'noop', code: 0, run() {}, describe: () => 'noop' };

/** Bare baseline: `n` pop+push pairs on a heap kept at `size` records, one allocation per push. */
function baseline(n: number, size: number): number {
  const rng = makeRng('bench-baseline');
  const heap = new MinHeap<SimEvent>();
  let seq = 0;
  for (let i = 0; i < size; i++) {
    const ev = new SimEvent(NOOP, null, null);
    ev.t = rng.next() * 100;
    ev.seq = seq++;
    heap.push(ev);
  }
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const top = heap.pop()!;
    sink += top.t;
    const ev = new SimEvent(NOOP, null, null);
    ev.t = top.t + rng.next() * 100;
    ev.seq = seq++;
    heap.push(ev);
  }
  const ms = performance.now() - t0;
  if (sink < 0) process.stdout.write('');
  return ms;
}

export async function benchSim(args: string[]): Promise<number> {
  const o = parse(args);
  if (typeof o === 'string') {
    process.stderr.write(`muster bench sim: ${o}\nusage: muster bench sim [--hosts N] [--seconds S] [--seed X] [--trace]\n`);
    return 2;
  }
  const durationMs = o.seconds * 1000;
  // Warm-up (JIT) on a small world and a small baseline, both discarded.
  buildChattyWorld({ seed: `${o.seed}-warmup`, hosts: 20, traceEnabled: o.trace, durationMs: 10_000 }).world.runUntil(10_000);
  baseline(200_000, 100);
  const { world } = buildChattyWorld({ seed: o.seed, hosts: o.hosts, traceEnabled: o.trace, durationMs });
  // Sample the queue size so the baseline heap is as deep as the simulator's.
  let samples = 0;
  let depth = 0;
  const sampleEvery = 1000;
  const sample = (): void => {
    depth += world.kernel.pending();
    samples++;
    if (world.nowMs() + sampleEvery < durationMs) world.schedule(world.nowMs() + sampleEvery, 'bench-sample', sample);
  };
  world.schedule(0, 'bench-sample', sample);
  const t0 = performance.now();
  world.runUntil(durationMs);
  const simWallMs = performance.now() - t0;
  const events = world.eventsRun();
  const meanDepth = Math.max(1, Math.round(depth / Math.max(1, samples)));
  const baseWallMs = baseline(events, meanDepth);
  const stats = world.net.stats();
  const simNsPerEvent = (simWallMs * 1e6) / events;
  const baseNsPerEvent = (baseWallMs * 1e6) / events;
  const ratio = simNsPerEvent / baseNsPerEvent;
  const eventsPerSec = events / (simWallMs / 1000);
  const simSecPerWallSec = o.seconds / (simWallMs / 1000);
  const f = (x: number, d = 1) => x.toFixed(d);
  process.stdout.write(
    [
      `world: ${o.hosts} hosts, ${o.seconds} s virtual, seed ${o.seed}, trace ${o.trace ? 'on' : 'off (digest)'}`,
      `events: ${events}  datagrams sent/delivered/dropped: ${stats.datagramsSent}/${stats.datagramsDelivered}/${stats.datagramsDropped}  stream msgs: ${stats.streamMessagesDelivered}`,
      `sim:      ${f(simWallMs)} ms wall  ${f(eventsPerSec / 1e6, 3)} M events/s  ${f(simNsPerEvent)} ns/event  ${f(simSecPerWallSec)} simulated s per wall s`,
      `baseline: ${f(baseWallMs)} ms wall  ${events} heap pop+push pairs at depth ${meanDepth}  ${f(baseNsPerEvent)} ns/pair`,
      `overhead: ${f(ratio, 2)}× a bare heap operation per event (aim ≤ 5×; includes the program's own work)`,
      `trace hash: ${world.traceHash()}`,
      JSON.stringify({
        bench: 'sim',
        hosts: o.hosts,
        virtualSeconds: o.seconds,
        events,
        simWallMs: Number(f(simWallMs, 2)),
        eventsPerSec: Math.round(eventsPerSec),
        simSecondsPerWallSecond: Number(f(simSecPerWallSec, 2)),
        baselineWallMs: Number(f(baseWallMs, 2)),
        baselineDepth: meanDepth,
        ratio: Number(f(ratio, 3)),
        traceHash: world.traceHash(),
      }),
    ].join('\n') + '\n',
  );
  return 0;
}
