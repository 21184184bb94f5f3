// cli/commands/fuzz-raft.ts — `muster fuzz raft --seeds N [--seed S] [--bug NAME] [--json]`.
//
// Owns: running N random Raft fault scenarios in the simulator (seeds S, S+1, …), printing
// progress and a summary, and on a violation the invariant, the seed and the one command that
// replays it. Exit 0 when nothing was violated, 1 on a violation, 2 on bad arguments.
// Must never: depend on wall-clock time for the verdict.
import { BUG_NAMES, type BugName } from '../../core/raft/node.ts';
import { runSeed } from '../../sim/fuzz/raft/run.ts';

interface FuzzArgs {
  seeds: number;
  start: number;
  bug?: BugName;
  quiet: boolean;
}

function usage(msg: string): number {
  process.stderr.write(`muster fuzz raft: ${msg}\nusage: muster fuzz raft --seeds N [--seed S] [--bug ${BUG_NAMES.join('|')}] [--quiet]\n`);
  return 2;
}

function parse(args: string[]): FuzzArgs | string {
  const out: FuzzArgs = { seeds: 200, start: 0, quiet: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string | undefined => args[++i];
    if (a === '--seeds') {
      const v = Number(val());
      if (!Number.isInteger(v) || v < 1) return '--seeds needs a positive integer';
      out.seeds = v;
    } else if (a === '--seed') {
      const v = Number(val());
      if (!Number.isInteger(v) || v < 0) return '--seed needs a non-negative integer (the first seed to run)';
      out.start = v;
    } else if (a === '--bug') {
      const v = val();
      if (!v || !(BUG_NAMES as readonly string[]).includes(v)) return `--bug must be one of ${BUG_NAMES.join(', ')}, got '${v ?? ''}'`;
      out.bug = v as BugName;
    } else if (a === '--quiet') out.quiet = true;
    else return `unknown argument '${a}'`;
  }
  return out;
}

export async function fuzzRaft(args: string[]): Promise<number> {
  const p = parse(args);
  if (typeof p === 'string') return usage(p);
  const say = (s: string): void => {
    if (!p.quiet) process.stdout.write(s);
  };
  let proposals = 0;
  let acked = 0;
  let elections = 0;
  let peerChanges = 0;
  let figure8 = 0;
  let splitVotes = 0;
  for (let k = 0; k < p.seeds; k++) {
    const seed = String(p.start + k);
    const r = runSeed(seed, { bug: p.bug });
    proposals += r.proposals;
    acked += r.acked;
    elections += r.elections;
    peerChanges += r.peerChanges;
    for (const o of r.adversaries) {
      if (o.startsWith('completed:')) figure8++;
      else if (o.startsWith('completed ')) splitVotes++;
    }
    if (r.violations.length > 0) {
      const v = r.violations[0]!;
      const replay = `npx muster fuzz raft --seed ${seed} --seeds 1${p.bug ? ` --bug ${p.bug}` : ''}`;
      process.stdout.write(
        `\nVIOLATION ${v.invariant}: ${v.detail} (at virtual ${v.atMs.toFixed(1)} ms)\n` +
          `  seed ${seed}: ${r.scenario.servers} servers, ${r.scenario.config.via}, ${r.scenario.faults.length} faults\n` +
          `  scenario: ${JSON.stringify(r.scenario)}\n` +
          `  replay: ${replay}\n` +
          `fuzz raft: FAILED after ${k + 1} of ${p.seeds} schedules${p.bug ? ` (bug ${p.bug})` : ''}\n`,
      );
      return 1;
    }
    if ((k + 1) % 10 === 0 || k + 1 === p.seeds) say(`\rfuzz raft: ${k + 1}/${p.seeds} schedules ok`);
  }
  say('\n');
  process.stdout.write(
    `fuzz raft: ${p.seeds} schedules, 0 violations (seeds ${p.start}..${p.start + p.seeds - 1}${p.bug ? `, bug ${p.bug}` : ''}; ` +
      `${proposals} proposals, ${acked} acknowledged, ${elections} elections, ${peerChanges} peer changes committed, ` +
      `${figure8} Figure-8 sequences and ${splitVotes} split votes with a crashed voter completed)\n`,
  );
  return 0;
}
