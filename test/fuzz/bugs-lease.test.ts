// lease-too-long: a leader trusts its read lease for 20 election timeouts and keeps leading on
// it after losing its quorum (core/raft RaftBugs.leaseTooLong). Only clients can see it: a
// default read served by the deposed leader after a newer write was acknowledged.
import { describe, it } from 'vitest';
import { catchAndShrink } from './bug-hunt.ts';

// Seeds-to-catch over seeds 0..99 (3 servers + 2 clients, 10 s of chaos): first at seed 7;
// 13 of 100 seeds catch it; never more than 13 apart. Mostly through the 'depose' adversary
// (the leader cut off from the other servers while clients reach everyone) or splitLeader.
describe('fuzz cluster catches a lease that is trusted too long', () => {
  it('lease-too-long: linearizability of default reads, within 20 seeds; the reproducer is small', () => {
    console.log(catchAndShrink('lease-too-long', 20, ['linearizability'], 200, { faults: 2, ops: 60 }));
  }, 90_000);
});
