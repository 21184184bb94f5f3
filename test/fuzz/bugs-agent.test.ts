// The cluster fuzzer's checkers must fail on planted agent bugs, and shrink them small.
import { describe, it } from 'vitest';
import { catchAndShrink } from './bug-hunt.ts';

describe('fuzz cluster catches planted agent bugs', () => {
  it('stale-read (default reads served locally by any server): linearizability, within 5 seeds', () => {
    console.log(catchAndShrink('stale-read', 5, ['linearizability'], 40, { faults: 2, ops: 30 }));
  }, 60_000);

  it('lost-ack (writes acknowledged before commit): linearizability or one lock holder, within 3 seeds', () => {
    console.log(catchAndShrink('lost-ack', 3, ['linearizability', 'one lock holder at a time'], 40, { faults: 2, ops: 30 }));
  }, 60_000);
});
