// core/raft/candidate.ts — the candidate's step function.
//
// Owns: what a candidate does differently from a follower: counting the votes of its campaign,
// re-asking silent voters on its heartbeat timer, ignoring pre-vote answers (its pre-vote is
// over) and TimeoutNow (it is already campaigning). Everything else — a leader's append or
// heartbeat (which makes it a follower), vote requests, its election timing out, refusing
// leader-only commands — it does as a follower does.
// Must never: count a vote from outside its peer set (quorum.ts tallies voters only).
import type { RaftContext } from './context.ts';
import { candidateTick, onVoteResp } from './election.ts';
import { stepFollower } from './follower.ts';
import { TIMER_HEARTBEAT, type RaftInput } from './types.ts';

export function stepCandidate(c: RaftContext, nowMs: number, input: RaftInput): void {
  if (input.kind === 'timer' && input.name === TIMER_HEARTBEAT) {
    candidateTick(c, nowMs);
    return;
  }
  if (input.kind === 'receive') {
    const { from, msg } = input;
    if (msg.t === 'raft.voteResp') {
      if (!msg.pre) onVoteResp(c, nowMs, from, msg);
      return;
    }
    if (msg.t === 'raft.timeoutNow') return;
  }
  stepFollower(c, nowMs, input);
}
