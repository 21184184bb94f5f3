// `npm start` (muster demo) finds the walkthrough file wherever the command module lives.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WALKTHROUGH } from '../../cli/commands/demo.ts';

describe('muster demo', () => {
  it('points at scenarios/walkthrough.scenario in the package root', () => {
    expect(WALKTHROUGH.endsWith('/scenarios/walkthrough.scenario')).toBe(true);
    expect(existsSync(WALKTHROUGH)).toBe(true);
  });
});
