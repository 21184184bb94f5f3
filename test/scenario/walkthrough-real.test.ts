// The walkthrough with --real: real `muster agent` processes on loopback addresses, the
// installed dig, real files and web services. Slow (real timers: the walkthrough's waits,
// about 3 minutes) but part of `npm test`: issue 9's acceptance is that it passes in CI.
//   npx vitest run test/scenario/walkthrough-real.test.ts
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../cli/scenario.ts';

const FILE = 'scenarios/walkthrough.scenario';

function haveDig(): boolean {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the walkthrough with --real', () => {
  it('passes on real processes and leaves none behind', { timeout: 15 * 60_000 }, async () => {
    expect(haveDig(), 'the installed dig is needed for --real').toBe(true);
    let transcript = '';
    const r = await runScenarioText(readFileSync(FILE, 'utf8'), FILE, { real: true, keepGoing: true, out: (s) => (transcript += s) });
    if (!r.ok) expect.fail(`${r.summary}\n\n${r.failures.map((f) => `line ${f.line} (${f.step}):\n${f.message}`).join('\n\n')}\n--- transcript tail ---\n${transcript.slice(-4000)}`);
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('muster-scenario-'));
    expect(left).toEqual([]);
  });
});
