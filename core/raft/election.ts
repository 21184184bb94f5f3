// core/raft/election.ts — elections: timeouts, PreVote, campaigns, votes, and winning.
//
// Owns: the election timer's outcome (Consul's "no known peers", a pre-vote, a campaign), asking
// for votes (and re-asking silent voters every heartbeat interval), granting votes (up-to-date
// log, one vote per term, leader stickiness), counting answers (quorum.ts) and the transition
// to leader (no-op entry, the peer set written into the log when it came from peers.json).
// Must never: grant a second vote in a term (except under the doubleVote bug switch) or send
// a vote before it is durable (except under noFsyncVote).
import { NO_PEERS_WARN_EVERY_MS, type RaftContext } from './context.ts';
import { Progress } from './progress.ts';
import { tallyVotes } from './quorum.ts';
import { broadcastAppend, maybeCommit } from './replication.ts';
import { TIMER_ELECTION, TIMER_HEARTBEAT, type RequestVoteMsg, type RequestVoteResp } from './types.ts';

const enc = new TextEncoder();

export function onElectionTimeout(c: RaftContext, nowMs: number): void {
  if (!c.canCampaign()) {
    // hashicorp/raft forgets the leader on a heartbeat timeout even when it may not campaign:
    // `consul info` and X-Consul-KnownLeader must not keep naming a leader that went away.
    if (c.leaderId !== null) {
      c.leaderId = null;
      c.emitStateChange();
    }
    // hashicorp/raft 0.5 logs this once per heartbeat timeout (1–2 s); our election timer
    // fires 2–3×/s, so repeating it every time would flood a lone server's log. Once per
    // second per node keeps the walkthrough's line visible without the noise; a change of
    // the peer set resets the clock so the first abort after it is always shown.
    if (c.noPeersWarnedAtMs === null || nowMs - c.noPeersWarnedAtMs >= NO_PEERS_WARN_EVERY_MS) {
      c.noPeersWarnedAtMs = nowMs;
      c.warn('EnableSingleNode disabled, and no known peers. Aborting election.');
    }
    c.resetElectionTimer(nowMs);
    return;
  }
  if (c.role === 'Candidate') c.warn('Election timeout reached, restarting election');
  else c.warn('Heartbeat timeout reached, starting election');
  if (c.leaderId !== null) {
    c.leaderId = null;
    c.emitStateChange();
  }
  // A candidate whose election timed out has already passed a pre-vote; it retries directly.
  if (c.config.preVote && c.role === 'Follower') startPreVote(c, nowMs);
  else campaign(c, nowMs, false);
}

function startPreVote(c: RaftContext, nowMs: number): void {
  c.preVoting = true;
  c.votes = new Map([[c.id, true]]);
  c.resetElectionTimer(nowMs);
  if (tallyVotes(c.peerSet, c.votes).result === 'won') {
    campaign(c, nowMs, false);
    return;
  }
  for (const p of c.others()) {
    c.send(p, {
      t: 'raft.vote',
      term: c.currentTerm + 1,
      candidate: c.id,
      lastLogIndex: c.log.lastIndex,
      lastLogTerm: c.log.lastTerm,
      pre: true,
      transfer: false,
    });
  }
}

export function campaign(c: RaftContext, nowMs: number, transfer: boolean): void {
  c.preVoting = false;
  c.transferCampaign = transfer;
  c.role = 'Candidate';
  c.setTerm(c.currentTerm + 1);
  c.votedFor = c.id;
  c.leaderId = null;
  c.info(`Node at ${c.id} [Candidate] entering Candidate state`);
  c.persistHardState();
  c.emitStateChange();
  c.votes = new Map([[c.id, true]]);
  c.resetElectionTimer(nowMs);
  if (tallyVotes(c.peerSet, c.votes).result === 'won') {
    becomeLeader(c, nowMs);
    return;
  }
  requestVotes(c);
  // "Servers retry RPCs if they do not receive a response in a timely manner" (§5.1): a
  // candidate re-asks silent peers every heartbeat interval until the election times out.
  c.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + c.config.heartbeatIntervalMs });
}

/** The candidate's heartbeat timer: re-ask voters that have not answered. */
export function candidateTick(c: RaftContext, nowMs: number): void {
  requestVotes(c);
  c.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + c.config.heartbeatIntervalMs });
}

function requestVotes(c: RaftContext): void {
  for (const p of c.others()) {
    if (c.votes.has(p)) continue;
    c.send(p, {
      t: 'raft.vote',
      term: c.currentTerm,
      candidate: c.id,
      lastLogIndex: c.log.lastIndex,
      lastLogTerm: c.log.lastTerm,
      pre: false,
      transfer: c.transferCampaign,
    });
  }
}

function becomeLeader(c: RaftContext, nowMs: number): void {
  c.info(`Election won. Tally: ${tallyVotes(c.peerSet, c.votes).granted}`);
  c.role = 'Leader';
  c.leaderId = c.id;
  c.votes.clear();
  c.info(`Node at ${c.id} [Leader] entering Leader state`);
  c.emitStateChange();
  c.out.push({ kind: 'cancelTimer', name: TIMER_ELECTION });
  c.progress.clear();
  for (const p of c.others()) c.progress.set(p, new Progress(c.log.lastIndex + 1));
  c.committedInTerm = false;
  c.pendingConfigIndex = 0;
  c.quorumCheckAtMs = nowMs + c.config.electionTimeoutMs;
  // The no-op lets the leader commit (and so learn the commit index) in its own term.
  c.appendLocal({ index: c.log.lastIndex + 1, term: c.currentTerm, type: 'noop', data: new Uint8Array(0) });
  // A peer set that came from peers.json (bootstrap, or the manual recovery of the
  // walkthrough) is not in the log yet: write it there, so followers that were not
  // restarted learn it too (otherwise a recovered follower keeps believing it is alone).
  const logged = c.lastLoggedPeers();
  if (logged === null || logged.join(',') !== c.peerSet.join(',')) {
    const index = c.log.lastIndex + 1;
    c.appendLocal({ index, term: c.currentTerm, type: 'peers', data: enc.encode(JSON.stringify(c.peerSet)) });
    c.pendingConfigIndex = index;
  }
  broadcastAppend(c, nowMs);
  maybeCommit(c, nowMs);
  c.out.push({ kind: 'timer', name: TIMER_HEARTBEAT, atMs: nowMs + c.config.heartbeatIntervalMs });
}

/** Any role: grant or refuse a (pre-)vote. */
export function onRequestVote(c: RaftContext, nowMs: number, from: string, m: RequestVoteMsg): void {
  const upToDate = m.lastLogTerm > c.log.lastTerm || (m.lastLogTerm === c.log.lastTerm && m.lastLogIndex >= c.log.lastIndex);
  const doubleVote = !!c.config.bugs?.doubleVote;
  let canVote: boolean;
  if (m.pre) canVote = m.term > c.currentTerm && !c.inLease(nowMs);
  else canVote = c.votedFor === m.candidate || (c.votedFor === null && c.leaderId === null) || doubleVote;
  if (c.role === 'Leader' && !m.pre && !doubleVote) canVote = false;
  const granted = canVote && upToDate;
  if (granted && !m.pre) {
    c.setVote(m.candidate);
    c.persistHardState(!c.config.bugs?.noFsyncVote);
    c.resetElectionTimer(nowMs);
  }
  c.send(from, { t: 'raft.voteResp', term: granted && m.pre ? m.term : c.currentTerm, granted, pre: m.pre });
}

/** A follower's pre-vote round: on a majority, campaign for real. */
export function onPreVoteResp(c: RaftContext, nowMs: number, from: string, m: RequestVoteResp): void {
  if (!c.preVoting) return;
  if (m.granted && m.term !== c.currentTerm + 1) return;
  if (c.peerSet.includes(from)) c.votes.set(from, m.granted);
  const result = tallyVotes(c.peerSet, c.votes).result;
  if (result === 'won') campaign(c, nowMs, false);
  else if (result === 'lost') c.preVoting = false;
}

/** A candidate's election: a majority makes it leader, a majority of refusals a follower. */
export function onVoteResp(c: RaftContext, nowMs: number, from: string, m: RequestVoteResp): void {
  if (c.peerSet.includes(from)) c.votes.set(from, m.granted);
  const result = tallyVotes(c.peerSet, c.votes).result;
  if (result === 'won') becomeLeader(c, nowMs);
  else if (result === 'lost') c.becomeFollower(nowMs, c.currentTerm, null);
}
