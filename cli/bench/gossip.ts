// cli/bench/gossip.ts — `muster bench gossip --nodes N [--loss P] [--minutes M] [--crashes K] [--seed S]`.
//
// Owns: running the gossip scale measurements in the simulator and printing them beside what
// memberlist's defaults and the SWIM/Lifeguard papers predict, then one JSON line.
// Must never: run inside tests, or fail on a timing (exit 1 only on bad arguments or a pool that
// never converges).
import { buildPool, measureDetection, measureFalseFailures, measureJoinRounds, median, predictions } from '../../sim/gossip/scale.ts';

interface Args {
  nodes: number;
  loss: number;
  minutes: number;
  crashes: number;
  seed: string;
  stall: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { nodes: 100, loss: 0.05, minutes: 10, crashes: 5, seed: 'bench-gossip', stall: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [k, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    const val = (): string | undefined => inline ?? argv[++i];
    const num = (name: string, lo: number, hi: number): number | string => {
      const v = Number(val());
      return Number.isFinite(v) && v >= lo && v <= hi ? v : `${name} needs a number in ${lo}..${hi}`;
    };
    let r: number | string | undefined;
    switch (k.replace(/^--?/, '')) {
      case 'nodes': r = num('--nodes', 3, 5000); if (typeof r === 'number') a.nodes = Math.floor(r); break;
      case 'loss': r = num('--loss', 0, 0.5); if (typeof r === 'number') a.loss = r; break;
      case 'minutes': r = num('--minutes', 0, 120); if (typeof r === 'number') a.minutes = r; break;
      case 'crashes': r = num('--crashes', 1, 50); if (typeof r === 'number') a.crashes = Math.floor(r); break;
      case 'seed': a.seed = val() ?? ''; break;
      case 'no-stall': a.stall = false; break;
      default: return `unknown flag '${flag}'`;
    }
    if (typeof r === 'string') return r;
  }
  return a;
}

const USAGE = 'usage: muster bench gossip [--nodes N (100)] [--loss P (0.05)] [--minutes M (10)] [--crashes K (5)] [--seed S] [--no-stall]';

function fmtS(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'never';
}

export async function benchGossip(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`muster bench gossip: ${parsed}\n${USAGE}\n`);
    return 1;
  }
  const a = parsed;
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const pred = predictions(a.nodes);
  const real0 = Date.now();
  out(`gossip bench: ${a.nodes} nodes, LAN profile (memberlist defaults), seed ${a.seed}`);
  out(`replay: npx muster bench gossip --nodes ${a.nodes} --loss ${a.loss} --minutes ${a.minutes} --crashes ${a.crashes} --seed ${a.seed}${a.stall ? '' : ' --no-stall'}`);

  let pool;
  try {
    pool = buildPool({ n: a.nodes, seed: a.seed });
  } catch (err) {
    process.stderr.write(`muster bench gossip: ${(err as Error).message}\n`);
    return 1;
  }
  out(`  pool built and converged in ${fmtS(pool.buildMs)} virtual`);

  const join = measureJoinRounds(pool);
  out(`  join dissemination: ${join.rounds.toFixed(1)} gossip rounds (${fmtS(join.ms)})   vs log_${3}(n) = ${pred.logRounds.toFixed(1)} rounds (SWIM: O(log n))`);

  const det = measureDetection(pool, a.crashes);
  const firstMed = median(det.firstMs);
  const allMed = median(det.allMs);
  out(`  crash detection (median of ${a.crashes}): first member ${fmtS(firstMed)}, every member ${fmtS(allMed)}`);
  out(`    memberlist defaults predict ≈ ${fmtS(pred.memberlistDetectMs)} = (e/(e−1) + 1) probe periods + suspicion min ${fmtS(pred.suspicionMinMs)} (max ${fmtS(pred.suspicionMaxMs)} without confirmations)`);
  out(`    ratio first/predicted = ${(firstMed / pred.memberlistDetectMs).toFixed(2)}, all/predicted = ${(allMed / pred.memberlistDetectMs).toFixed(2)}`);

  pool.c.world.net.setDefaultLink({ loss: a.loss });
  const durationMs = a.minutes * 60_000;
  const ff = measureFalseFailures(pool, durationMs);
  out(`  false failures of healthy nodes over ${a.minutes} min at ${(a.loss * 100).toFixed(1)}% loss: ${ff.falseFailures} (refutations: ${ff.refutes})`);

  let stallFigures: { lifeguard: number; swim: number } | null = null;
  if (a.stall && a.minutes > 0) {
    // Lifeguard's case, against plain SWIM as the baseline measured in the same run.
    const stallMin = Math.min(a.minutes, 3);
    const runStall = (lifeguard: boolean): { ff: number; about: number } => {
      const p = buildPool({ n: Math.min(a.nodes, 100), seed: `${a.seed}/stall/${lifeguard}`, config: { lifeguard } });
      p.c.world.net.setDefaultLink({ loss: a.loss });
      const r = measureFalseFailures(p, stallMin * 60_000, { index: 1, stallMs: 3000, everyMs: 8000 });
      return { ff: r.falseFailures, about: r.aboutStalled };
    };
    const lg = runStall(true);
    const sw = runStall(false);
    stallFigures = { lifeguard: lg.ff, swim: sw.ff };
    out(`  one node stalling 3 s of every 8 s (${Math.min(a.nodes, 100)} nodes, ${stallMin} min): false failures of healthy nodes — Lifeguard ${lg.ff}, plain SWIM ${sw.ff}; the stalled node itself marked failed ${lg.about} vs ${sw.about} times`);
    out(`    (Lifeguard paper: >50× fewer false positives than SWIM)`);
  }
  out(`  wall time ${((Date.now() - real0) / 1000).toFixed(1)} s`);
  out(
    JSON.stringify({
      bench: 'gossip',
      nodes: a.nodes,
      loss: a.loss,
      seed: a.seed,
      join_rounds: round2(join.rounds),
      log3_n: round2(pred.logRounds),
      detect_first_ms_median: Math.round(firstMed),
      detect_all_ms_median: Number.isFinite(allMed) ? Math.round(allMed) : null,
      memberlist_detect_ms: pred.memberlistDetectMs,
      suspicion_min_ms: pred.suspicionMinMs,
      false_failures: ff.falseFailures,
      minutes: a.minutes,
      stall_false_failures_lifeguard: stallFigures?.lifeguard ?? null,
      stall_false_failures_swim: stallFigures?.swim ?? null,
    }),
  );
  return 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
