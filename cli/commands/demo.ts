// cli/commands/demo.ts — `muster demo` (what `npm start` runs): the walkthrough, replayed in the simulator.
//
// Owns: finding scenarios/walkthrough.scenario next to this package and replaying it with
// `muster scenario run`'s machinery, so the first thing anyone runs is the acceptance test.
// Must never: differ from `muster scenario run scenarios/walkthrough.scenario` in behaviour.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioCommand } from './scenario.ts';

/** The package root is two folders up from cli/commands/. */
export const WALKTHROUGH = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'scenarios', 'walkthrough.scenario');

export async function runDemo(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(
      'usage: muster demo [--seed N] [--real] [--quiet]\n\nReplays scenarios/walkthrough.scenario (the Consul walkthrough) in the simulator and checks every output.\n',
    );
    return 0;
  }
  const rel = relative(process.cwd(), WALKTHROUGH);
  const file = rel.startsWith('..') ? WALKTHROUGH : rel;
  // The whole story is shown even past a mismatch; the result line still says PASS or FAIL.
  return scenarioCommand(['run', file, '--keep-going', ...args]);
}
