// cli/commands/fuzz-cluster.ts — `muster fuzz cluster`: swarm-test a whole simulated Muster cluster.
//
// Owns: running seeds S, S+1, … (each a swarm configuration, fault schedule and workload drawn by
// fast-check), progress and a summary line; on the first failure the invariant, seed, replay
// command, a fast-check-shrunk reproducer written as a JSON case file, and an exit code that
// tells a crash (127), a liveness failure (128) and a correctness failure (129) apart
// (0: all passed, 2: bad arguments or file). `--replay FILE` runs one case file.
// Must never: let wall-clock time decide a verdict (it only feeds the schedules/s figure).
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseForSeed, type CaseOptions } from '../../sim/fuzz/cluster/arbitrary.ts';
import { CLUSTER_BUGS, isBugName, type BugName } from '../../sim/fuzz/cluster/bugs.ts';
import { MAX_CLIENTS, caseSize, CaseError, type ClusterCase } from '../../sim/fuzz/cluster/case.ts';
import { EXIT_CODES, runCase, type RunResult } from '../../sim/fuzz/cluster/run.ts';
import { parseCaseFile, reproducerJson, shrinkCase } from '../../sim/fuzz/cluster/shrink.ts';

const USAGE =
  'usage: muster fuzz cluster [--seeds N] [--seed S] [--servers 3|5] [--clients K] [--duration SECONDS]\n' +
  `                           [--bug ${CLUSTER_BUGS.join('|')}]\n` +
  '                           [--shrink-runs N | --no-shrink] [--out DIR (default: a new temp folder)] [--quiet]\n' +
  '       muster fuzz cluster --replay FILE\n';

interface Args {
  seeds: number;
  start: number;
  servers: number;
  clients: number;
  durationS: number;
  bug?: BugName;
  shrinkRuns: number;
  /** Where reproducers go; null: a fresh folder under the system temp dir. */
  out: string | null;
  quiet: boolean;
  replay?: string;
}

function parse(argv: string[]): Args | string {
  const a: Args = { seeds: 100, start: 0, servers: 3, clients: 2, durationS: 60, shrinkRuns: 200, out: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const val = (): string | undefined => argv[++i];
    const int = (name: string, min: number, max: number): number | string => {
      const raw = val();
      const v = Number(raw);
      return Number.isInteger(v) && v >= min && v <= max ? v : `${name} needs an integer in [${min}, ${max}], got '${raw ?? ''}'`;
    };
    let r: number | string | undefined;
    switch (flag) {
      case '--seeds':
        r = int('--seeds', 1, 1e9);
        if (typeof r === 'number') a.seeds = r;
        break;
      case '--seed':
        r = int('--seed', 0, 2 ** 31 - 1);
        if (typeof r === 'number') a.start = r;
        break;
      case '--servers':
        r = int('--servers', 3, 5);
        if (typeof r === 'number' && r !== 3 && r !== 5) r = `--servers must be 3 or 5, got ${r}`;
        if (typeof r === 'number') a.servers = r;
        break;
      case '--clients':
        r = int('--clients', 0, MAX_CLIENTS);
        if (typeof r === 'number') a.clients = r;
        break;
      case '--duration':
        r = int('--duration', 0, 3600);
        if (typeof r === 'number') a.durationS = r;
        break;
      case '--shrink-runs':
        r = int('--shrink-runs', 0, 100_000);
        if (typeof r === 'number') a.shrinkRuns = r;
        break;
      case '--no-shrink':
        a.shrinkRuns = 0;
        break;
      case '--bug': {
        const v = val() ?? '';
        if (!isBugName(v)) return `--bug must be one of ${CLUSTER_BUGS.join(', ')}, got '${v}'`;
        a.bug = v;
        break;
      }
      case '--out': {
        const v = val();
        if (!v) return '--out needs a directory';
        a.out = v;
        break;
      }
      case '--replay': {
        const v = val();
        if (!v) return '--replay needs a case file (written by a failing `muster fuzz cluster`)';
        a.replay = v;
        break;
      }
      case '--quiet':
        a.quiet = true;
        break;
      default:
        return `unknown argument '${flag}'`;
    }
    if (typeof r === 'string') return r;
  }
  return a;
}

function replayCommand(a: Args, seed: number): string {
  const parts = ['npx muster fuzz cluster', `--seed ${seed}`, '--seeds 1'];
  if (a.servers !== 3) parts.push(`--servers ${a.servers}`);
  if (a.clients !== 2) parts.push(`--clients ${a.clients}`);
  if (a.durationS !== 60) parts.push(`--duration ${a.durationS}`);
  if (a.bug) parts.push(`--bug ${a.bug}`);
  return parts.join(' ');
}

function describeFailure(r: RunResult): string {
  const v = r.violation!;
  return `${r.verdict.toUpperCase()} ${v.invariant}: ${v.detail} (at virtual ${v.atMs.toFixed(1)} ms)`;
}

function replayFile(file: string): number {
  let parsed: ReturnType<typeof parseCaseFile>;
  try {
    parsed = parseCaseFile(readFileSync(file, 'utf8'), file);
  } catch (err) {
    const msg = err instanceof CaseError ? err.message : `cannot read ${file}: ${(err as Error).message}`;
    process.stderr.write(`muster fuzz cluster: ${msg}\n`);
    return 2;
  }
  const { kase, expect } = parsed;
  const size = caseSize(kase);
  process.stdout.write(`replaying ${file}: ${kase.servers} servers, ${kase.clients} clients, ${size.faults} faults, ${size.ops} ops${kase.bug ? `, bug ${kase.bug}` : ''}\n`);
  const r = runCase(kase);
  process.stdout.write(r.verdict === 'ok' ? 'result: ok (no invariant violated)\n' : `result: ${describeFailure(r)}\n`);
  process.stdout.write(`trace hash ${r.traceHash}\n`);
  if (expect) {
    const same = r.verdict === expect.verdict && r.violation?.invariant === expect.invariant;
    process.stdout.write(same ? `reproduced: ${expect.verdict} ${expect.invariant}\n` : `NOT reproduced: expected ${expect.verdict} ${expect.invariant}\n`);
  }
  return EXIT_CODES[r.verdict];
}

export async function fuzzCluster(argv: string[]): Promise<number> {
  const a = parse(argv);
  if (typeof a === 'string') {
    process.stderr.write(`muster fuzz cluster: ${a}\n${USAGE}`);
    return 2;
  }
  if (a.replay) return replayFile(a.replay);
  const opts: CaseOptions = { servers: a.servers, clients: a.clients, chaosMs: a.durationS * 1000, bug: a.bug };
  const say = (s: string): void => {
    if (!a.quiet) process.stdout.write(s);
  };
  const t0 = performance.now();
  let ops = 0;
  let faults = 0;
  let recoverySum = 0;
  for (let k = 0; k < a.seeds; k++) {
    const seed = a.start + k;
    const kase: ClusterCase = caseForSeed(seed, opts);
    const r = runCase(kase);
    ops += r.stats.ops;
    faults += r.stats.faultsFired;
    recoverySum += r.stats.recoveryMs ?? 0;
    const elapsedS = (performance.now() - t0) / 1000;
    const rate = (k + 1) / Math.max(elapsedS, 1e-9);
    if (r.verdict !== 'ok') {
      say(`\rfuzz cluster: ${k + 1}/${a.seeds} schedules, ${rate.toFixed(1)}/s, 1 failure\n`);
      const size = caseSize(kase);
      process.stdout.write(
        `\n${describeFailure(r)}\n` +
          `  seed ${seed}: ${kase.servers} servers, ${kase.clients} clients × ${kase.workers} workers, ${size.faults} faults, ${size.ops} ops, ` +
          `faults on: ${kase.swarm.join(', ') || 'none'}\n` +
          `  replay: ${replayCommand(a, seed)}\n`,
      );
      if (a.shrinkRuns > 0) {
        say(`  shrinking (up to ${a.shrinkRuns} runs)…\n`);
        const s = shrinkCase(kase, r, a.shrinkRuns);
        const small = caseSize(s.kase);
        const dir = a.out ?? mkdtempSync(join(tmpdir(), 'muster-fuzz-'));
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `fuzz-cluster-seed-${seed}${a.bug ? `-${a.bug}` : ''}.json`);
        writeFileSync(file, reproducerJson(s, seed, kase));
        process.stdout.write(
          `  shrunk in ${s.runs} runs${s.exhausted ? ' (budget reached)' : ''}: ${size.faults} → ${small.faults} faults, ${size.ops} → ${small.ops} ops; ` +
            `still: ${describeFailure(s.result)}\n` +
            `  reproducer: ${file}\n  replay it: npx muster fuzz cluster --replay ${file}\n`,
        );
      }
      process.stdout.write(`fuzz cluster: FAILED (${r.verdict}) at seed ${seed} after ${k + 1} of ${a.seeds} schedules${a.bug ? ` (bug ${a.bug})` : ''}\n`);
      return EXIT_CODES[r.verdict];
    }
    if (!a.quiet && ((k + 1) % 5 === 0 || k + 1 === a.seeds)) say(`\rfuzz cluster: ${k + 1}/${a.seeds} schedules, ${rate.toFixed(1)}/s, 0 failures`);
  }
  const wallS = (performance.now() - t0) / 1000;
  say('\n');
  process.stdout.write(
    `fuzz cluster: ${a.seeds} schedules ok (seeds ${a.start}..${a.start + a.seeds - 1}, ${a.servers} servers + ${a.clients} clients, ` +
      `${a.durationS} s simulated each${a.bug ? `, bug ${a.bug}` : ''}); ${faults} faults, ${ops} client ops, ` +
      `mean recovery ${(recoverySum / a.seeds).toFixed(0)} ms; ${((a.seeds / wallS) * 60).toFixed(0)} schedules/min\n`,
  );
  return 0;
}
