// Every scenario in scenarios/ except the walkthrough (walkthrough.test.ts) passes in the
// simulator: seed 1 twice with the same trace hash, and two other seeds.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../cli/commands/scenario.ts';

const FILES = readdirSync('scenarios')
  .filter((f) => f.endsWith('.scenario') && f !== 'walkthrough.scenario')
  .sort();

async function run(file: string, seed: string) {
  let transcript = '';
  const r = await runScenarioText(readFileSync(`scenarios/${file}`, 'utf8'), `scenarios/${file}`, { seed, out: (s) => (transcript += s) });
  // On failure, show the mismatch and the replay command rather than just "false".
  if (!r.ok) expect.fail(`${r.summary}\n${r.failures.map((f) => f.message).join('\n')}\n--- transcript tail ---\n${transcript.slice(-3000)}`);
  return r;
}

describe('scenarios replay in the simulator', () => {
  it('has the scenarios from the walkthrough text', () => {
    expect(FILES).toEqual(expect.arrayContaining(['client-comes-and-goes.scenario', 'three-servers.scenario']));
  });

  for (const file of FILES) {
    it(`${file}: passes with seed 1, twice with the same trace hash, and with seeds 2 and 3`, async () => {
      const a = await run(file, '1');
      const b = await run(file, '1');
      expect(a.traceHash).toMatch(/^[0-9a-f]{64}$/);
      expect(b.traceHash).toBe(a.traceHash);
      const c = await run(file, '2');
      const d = await run(file, '3');
      expect(new Set([a.traceHash, c.traceHash, d.traceHash]).size).toBe(3);
    });
  }
});
