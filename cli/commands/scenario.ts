// cli/commands/scenario.ts — `muster scenario run FILE [--seed N] [--real] [--update]`.
//
// Owns: reading a scenario file, choosing the world (the simulator with a seed, or real
// processes on loopback addresses), handing the CLI commands to the simulator backend,
// printing the transcript and the final `PASS FILE seed=N trace=HASH` / `FAIL …` line with
// the command that replays it, and writing `--update` rewrites back into the file.
// Must never: hold scenario semantics (sim/scenario/ owns the format, matching and engine).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { ScenarioSyntaxError } from '../../sim/scenario/types.ts';
import { ScenarioEngine, applyReplacements, type RunResult } from '../../sim/scenario/engine.ts';
import { SimScenarioBackend, type ScenarioCli } from '../../sim/scenario/sim-backend.ts';
import type { ScenarioBackend } from '../../sim/scenario/backend.ts';
import { commands } from './index.ts';
import { ConnectionError } from '../http-client.ts';

const USAGE = `usage: muster scenario run FILE [--seed N] [--real] [--update] [--keep-going] [--quiet]

Replays a scenario file (see scenarios/README.md): each host's commands, compared with the
output the file expects. In the simulator (default) hosts keep the file's addresses and time
is virtual; the same seed gives the same trace hash. --real runs real agent processes, one
loopback address per host (127.0.0.2, .3, …). --update rewrites mismatching expected output
in place (review the diff). --keep-going reports every mismatch instead of stopping at the
first. --quiet prints only mismatches and the result line.
`;

export const DEFAULT_SEED = '1';
/** How many times a lost `coin toss` replays the scenario before it counts as a failure. */
export const COIN_TOSS_ATTEMPTS = 12;

export function simCli(): ScenarioCli {
  return {
    commands: commands as unknown as ScenarioCli['commands'],
    connectionError: (addr, reason) => new ConnectionError(addr, reason),
  };
}

export interface ScenarioRunOptions {
  seed?: string;
  real?: boolean;
  update?: boolean;
  keepGoing?: boolean;
  out?: (s: string) => void;
  /** Real mode: first loopback address (default 127.0.0.2). */
  loopbackBase?: string;
}

export interface ScenarioOutcome extends RunResult {
  file: string;
  seed: string;
  /** The rewritten text with --update (null when nothing changed). */
  updatedText: string | null;
  /** The one line the runner prints last. */
  summary: string;
  /** 1 + how many lost coin tosses were replayed. */
  attempt: number;
}

function replayCommand(file: string, o: ScenarioRunOptions, seed: string): string {
  return `npx muster scenario run ${file}${o.real ? ' --real' : ` --seed ${seed}`}`;
}

/** Run scenario text (already read); throws ScenarioSyntaxError for a bad file. */
export async function runScenarioText(text: string, file: string, o: ScenarioRunOptions = {}): Promise<ScenarioOutcome> {
  const scenario = parseScenario(text, file);
  const seed = o.seed ?? DEFAULT_SEED;
  const print = o.out ?? (() => {});
  const coinTosses = scenario.steps.filter((st) => st.coinToss).length;
  let result: RunResult | null = null;
  let attempt = 0;
  let lostAt = 0;
  while (attempt < COIN_TOSS_ATTEMPTS) {
    attempt++;
    let backend: ScenarioBackend;
    // Attempt 1 is the seed itself; replays after a lost coin toss derive from it, so a
    // seed always replays the same attempts.
    const worldSeed = attempt === 1 ? (/^\d+$/.test(seed) ? Number(seed) : seed) : `${seed}#${attempt}`;
    if (o.real) {
      const { RealScenarioBackend } = await import('../scenario/real-backend.ts');
      backend = new RealScenarioBackend({ loopbackBase: o.loopbackBase });
    } else {
      backend = new SimScenarioBackend(worldSeed, simCli());
    }
    // Until every coin toss of this attempt fell the scenario's way, its output is held back:
    // an attempt where the dice fell the other way is dropped whole, so no reader sees a
    // mismatch that was only chance. What was chosen is said in one line instead.
    let held: string[] | null = coinTosses > 0 ? [] : null;
    let won = 0;
    const release = (): void => {
      if (!held) return;
      const lines = held;
      held = null;
      if (attempt > 1) {
        const shown = o.real ? `real run ${attempt}` : `world seed ${JSON.stringify(String(worldSeed))}`;
        const times = attempt === 2 ? 'once' : `${attempt - 1} times`;
        print(
          `~~ ${file}:${lostAt}: a coin toss (a race between randomised timers) fell the other way ${times}; showing ${shown}, where it falls as the scenario tells\n`,
        );
      }
      for (const t of lines) print(t);
    };
    const out = (text: string): void => {
      if (held) held.push(text);
      else print(text);
    };
    const onCoinTossWon = (): void => {
      if (++won === coinTosses) release();
    };
    const engine = new ScenarioEngine(scenario, backend, { update: o.update, keepGoing: o.keepGoing, out, onCoinTossWon });
    result = await engine.run();
    if (result.coinTossLost === null) {
      release();
      break;
    }
    lostAt = result.coinTossLost;
  }
  const r = result!;
  const updatedText = o.update && r.replacements.length > 0 ? applyReplacements(scenario.sourceLines, r.replacements).join('\n') : null;
  const where = o.real ? 'real' : `seed=${seed}`;
  const attemptText = attempt > 1 ? ` attempt=${attempt}` : '';
  let summary: string;
  if (r.ok) summary = `PASS ${file} ${where}${attemptText} trace=${r.traceHash ?? '-'}`;
  else {
    const f = r.failures[0]!;
    const lost = r.coinTossLost !== null ? ` (the coin toss lost ${COIN_TOSS_ATTEMPTS} times in a row)` : '';
    summary = `FAIL ${file} ${where}${attemptText} at line ${f.line} (${f.step})${lost}${r.failures.length > 1 ? ` and ${r.failures.length - 1} more` : ''}${
      r.traceHash ? ` trace=${r.traceHash}` : ''
    }\nreplay: ${replayCommand(file, o, seed)}`;
  }
  return { ...r, file, seed, updatedText, summary, attempt };
}

export async function scenarioCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === '-h' || verb === '--help' || verb === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (verb !== 'run') {
    process.stderr.write(`muster scenario: expected 'run', got '${verb ?? ''}'\n${USAGE}`);
    return 2;
  }
  let file: string | undefined;
  const o: ScenarioRunOptions = {};
  let quiet = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--seed' || a.startsWith('--seed=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (!v) {
        process.stderr.write(`muster scenario: --seed needs a value, e.g. --seed 7\n`);
        return 2;
      }
      o.seed = v;
    } else if (a === '--real') o.real = true;
    else if (a === '--update') o.update = true;
    else if (a === '--keep-going' || a === '-k') o.keepGoing = true;
    else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a === '--loopback-base' || a.startsWith('--loopback-base=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++i];
      if (!v || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) {
        process.stderr.write(`muster scenario: --loopback-base needs a 127.x.y.z address, e.g. 127.0.0.2\n`);
        return 2;
      }
      o.loopbackBase = v;
    } else if (a.startsWith('-')) {
      process.stderr.write(`muster scenario: unknown option '${a}'\n${USAGE}`);
      return 2;
    } else if (file === undefined) file = a;
    else {
      process.stderr.write(`muster scenario: one FILE at a time (got '${file}' and '${a}')\n`);
      return 2;
    }
  }
  if (!file) {
    process.stderr.write(`muster scenario run: which FILE? e.g. muster scenario run scenarios/walkthrough.scenario\n`);
    return 2;
  }
  if (o.real && o.seed !== undefined) {
    process.stderr.write(`muster scenario: --seed has no meaning with --real (real time and randomness); drop one of them\n`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(`muster scenario: cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 2;
  }
  const print = (s: string): void => {
    process.stdout.write(s);
  };
  const out = quiet ? (s: string) => (s.includes('!! MISMATCH') ? print(s) : undefined) : print;
  let outcome: ScenarioOutcome;
  try {
    outcome = await runScenarioText(text, file, { ...o, out });
  } catch (e) {
    if (e instanceof ScenarioSyntaxError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (outcome.updatedText !== null) {
    writeFileSync(file, outcome.updatedText);
    process.stdout.write(`\nupdated ${outcome.replacements.length} block(s) in ${file}; review with git diff\n`);
  }
  process.stdout.write(`\n${outcome.summary}\n`);
  return outcome.ok ? 0 : 1;
}
