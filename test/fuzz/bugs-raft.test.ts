// The cluster fuzzer's Raft checks must fail on planted Raft bugs, and shrink them small.
import { describe, it } from 'vitest';
import { catchAndShrink } from './bug-hunt.ts';

const RAFT_SAFETY = ['election safety', 'vote safety', 'election quorum', 'commit quorum', 'leader completeness', 'state-machine safety', 'log matching', 'linearizability'];

describe('fuzz cluster catches planted Raft bugs', () => {
  it('double-vote (a second vote in a term): election/vote safety, within 10 seeds', () => {
    console.log(catchAndShrink('double-vote', 10, RAFT_SAFETY, 80, { faults: 3, ops: 120 }));
  }, 60_000);
});
