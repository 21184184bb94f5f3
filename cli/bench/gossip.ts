// cli/bench/gossip.ts — `muster bench gossip --nodes N [--loss P] [--minutes M] [--crashes K] [--seed S]
// [--stall SPEC]… [--stall-nodes N] [--stall-minutes M] [--no-stall]`.
//
// Owns: running the gossip scale measurements in the simulator and printing them beside what
// memberlist's defaults and the SWIM/Lifeguard papers predict, then the Lifeguard-versus-plain-SWIM
// comparison with stalling nodes (same seed for both), then one JSON line.
// Must never: run inside tests, or fail on a timing (exit 1 only on bad arguments or a pool that
// never converges).
import { buildPool, measureDetection, measureFalseFailures, measureJoinRounds, median, predictions, type FalseFailureFigures, type StallPlan } from '../../sim/gossip/scale.ts';

/** K nodes stall MIN–MAX ms, run GMIN–GMAX ms, and stall again. */
interface StallSpec {
  text: string;
  count: number;
  stallMs: [number, number];
  gapMs: [number, number];
}

interface Args {
  nodes: number;
  loss: number;
  minutes: number;
  crashes: number;
  seed: string;
  stall: boolean;
  stallSpecs: StallSpec[];
  stallNodes: number | null;
  stallMinutes: number | null;
}

const SPEC_RE = /^(\d+):(\d+)-(\d+)\/(\d+)-(\d+)$/;

function parseStallSpec(text: string): StallSpec | string {
  const m = SPEC_RE.exec(text);
  if (!m) return `--stall '${text}' is not K:MIN-MAX/GAPMIN-GAPMAX (ms), e.g. 5:1000-3000/1-5 (5 slow nodes) or 1:1000-3000/2000-5000 (periodic pauses)`;
  const [count, s0, s1, g0, g1] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (count < 1) return `--stall '${text}': K must be ≥ 1`;
  if (s0 < 1 || s1 < s0) return `--stall '${text}': stall range must be 1 ≤ MIN ≤ MAX`;
  if (g0 < 1 || g1 < g0) return `--stall '${text}': gap range must be 1 ≤ GAPMIN ≤ GAPMAX`;
  return { text, count, stallMs: [s0, s1], gapMs: [g0, g1] };
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { nodes: 100, loss: 0.05, minutes: 10, crashes: 5, seed: 'bench-gossip', stall: true, stallSpecs: [], stallNodes: null, stallMinutes: null };
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
      case 'stall': {
        const spec = parseStallSpec(val() ?? '');
        if (typeof spec === 'string') return spec;
        a.stallSpecs.push(spec);
        break;
      }
      case 'stall-nodes': r = num('--stall-nodes', 3, 5000); if (typeof r === 'number') a.stallNodes = Math.floor(r); break;
      case 'stall-minutes': r = num('--stall-minutes', 0.5, 120); if (typeof r === 'number') a.stallMinutes = r; break;
      default: return `unknown flag '${flag}'`;
    }
    if (typeof r === 'string') return r;
  }
  if (!a.seed) return '--seed needs a value';
  return a;
}

const USAGE =
  'usage: muster bench gossip [--nodes N (100)] [--loss P (0.05)] [--minutes M (10)] [--crashes K (5)] [--seed S]\n' +
  '       [--stall K:MIN-MAX/GAPMIN-GAPMAX]… [--stall-nodes N (min(nodes,100))] [--stall-minutes M (minutes)] [--no-stall]\n' +
  '  --stall: K nodes stall MIN–MAX ms, run GAPMIN–GAPMAX ms, repeat (ms). Default: two regimes,\n' +
  '           slow nodes 10%:1000-3000/1-5 and periodic pauses 1:1000-3000/2000-5000.';

function fmtS(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'never';
}

function defaultStallSpecs(n: number): StallSpec[] {
  const slow = Math.max(1, Math.round(n * 0.1));
  return [
    { text: `${slow}:1000-3000/1-5`, count: slow, stallMs: [1000, 3000], gapMs: [1, 5] },
    { text: '1:1000-3000/2000-5000', count: 1, stallMs: [1000, 3000], gapMs: [2000, 5000] },
  ];
}

/** SWIM (the baseline) over Lifeguard, as a ratio. */
function ratio(base: number, x: number): string {
  if (base === 0 && x === 0) return 'both zero';
  if (x === 0) return 'Lifeguard zero';
  return `SWIM/Lifeguard = ${(base / x).toFixed(1)}`;
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
  const stallNodes = a.stallNodes ?? Math.min(a.nodes, 100);
  const stallMinutes = a.stallMinutes ?? a.minutes;
  const specs = a.stallSpecs.length ? a.stallSpecs : defaultStallSpecs(stallNodes);
  for (const s of specs) {
    if (s.count >= stallNodes) {
      process.stderr.write(`muster bench gossip: --stall '${s.text}' stalls ${s.count} nodes but the comparison pool has ${stallNodes}; use fewer or raise --stall-nodes\n`);
      return 1;
    }
  }
  out(`gossip bench: ${a.nodes} nodes, LAN profile (memberlist defaults), seed ${a.seed}`);
  const stallFlags = !a.stall ? ' --no-stall' : `${specs.map((s) => ` --stall ${s.text}`).join('')} --stall-nodes ${stallNodes} --stall-minutes ${stallMinutes}`;
  out(`replay: npx muster bench gossip --nodes ${a.nodes} --loss ${a.loss} --minutes ${a.minutes} --crashes ${a.crashes} --seed ${a.seed}${stallFlags}`);

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
  out(`  false failures of healthy nodes over ${a.minutes} min at ${(a.loss * 100).toFixed(1)}% loss: ${ff.falseFailures} (false suspicions ${ff.falseSuspicions}, refutations: ${ff.refutes})`);

  const stallRows: { spec: string; swim: FalseFailureFigures; lifeguard: FalseFailureFigures }[] = [];
  if (a.stall && a.minutes > 0) {
    // Lifeguard's case, against plain SWIM (lifeguard: false) as the baseline measured in the same
    // run, on the same seed. Stalled hosts run expired timers before held reads on resume (sim/kernel.ts).
    out(`  Lifeguard vs plain SWIM with stalling nodes (${stallNodes} nodes, ${stallMinutes} min at ${(a.loss * 100).toFixed(1)}% loss, same seed):`);
    for (const spec of specs) {
      const plan: StallPlan = { indices: Array.from({ length: spec.count }, (_, i) => 1 + i), stallMs: spec.stallMs, gapMs: spec.gapMs };
      const runOne = (lifeguard: boolean): FalseFailureFigures => {
        const p = buildPool({ n: stallNodes, seed: `${a.seed}/stall`, config: { lifeguard } });
        p.c.world.net.setDefaultLink({ loss: a.loss });
        return measureFalseFailures(p, stallMinutes * 60_000, plan);
      };
      const sw = runOne(false);
      const lg = runOne(true);
      stallRows.push({ spec: spec.text, swim: sw, lifeguard: lg });
      out(`    ${spec.count} node(s) stalling ${spec.stallMs[0]}–${spec.stallMs[1]} ms, running ${spec.gapMs[0]}–${spec.gapMs[1]} ms between (${sw.stalls} stalls):`);
      out(`      false failures of healthy nodes: SWIM ${sw.falseFailures}, Lifeguard ${lg.falseFailures} (${ratio(sw.falseFailures, lg.falseFailures)})`);
      out(`      false suspicions of healthy nodes: SWIM ${sw.falseSuspicions}, Lifeguard ${lg.falseSuspicions} (${ratio(sw.falseSuspicions, lg.falseSuspicions)})`);
      out(`      stalling nodes marked failed: SWIM ${sw.aboutStalled}, Lifeguard ${lg.aboutStalled}; refutations SWIM ${sw.refutes}, Lifeguard ${lg.refutes}`);
    }
    out(`    (Lifeguard paper: >50× fewer false positives than SWIM)`);
  }
  out(`  wall time ${((Date.now() - real0) / 1000).toFixed(1)} s`);
  const first = stallRows[0];
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
      false_suspicions: ff.falseSuspicions,
      minutes: a.minutes,
      stall_false_failures_lifeguard: first?.lifeguard.falseFailures ?? null,
      stall_false_failures_swim: first?.swim.falseFailures ?? null,
      stall: stallRows.map((r) => ({
        spec: r.spec,
        nodes: stallNodes,
        minutes: stallMinutes,
        stalls: r.swim.stalls,
        false_failures_swim: r.swim.falseFailures,
        false_failures_lifeguard: r.lifeguard.falseFailures,
        false_suspicions_swim: r.swim.falseSuspicions,
        false_suspicions_lifeguard: r.lifeguard.falseSuspicions,
        stalled_marked_failed_swim: r.swim.aboutStalled,
        stalled_marked_failed_lifeguard: r.lifeguard.aboutStalled,
      })),
    }),
  );
  return 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
