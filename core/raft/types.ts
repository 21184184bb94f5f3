// core/raft/types.ts — the vocabulary of the Raft machine: config, wire messages, inputs, effects.
//
// Owns: RaftConfig and its LAN defaults, the `raft.*` messages (plain objects tagged by `t`,
// so the wire codec can carry them), and the input/effect unions of RaftNode.
// Must never: hold behaviour beyond building defaults.
import type { BaseEffect, ReceiveInput, TimerInput, UnreachableInput } from '../machine.ts';

/** Test-only switches that plant a known bug so the fuzzer's checkers can be shown to fail. */
export interface RaftBugs {
  /** Grant a vote to a second candidate in a term we already voted in. */
  doubleVote?: boolean;
  /** Commit an entry from an earlier term by counting replicas (ignore the Figure-8 rule). */
  commitOldTerm?: boolean;
  /** Send the vote before the term/vote record is synced. */
  noFsyncVote?: boolean;
  /** Trust the read lease too long: it lasts LEASE_TOO_LONG_FACTOR election timeouts, and a
   *  leader that lost its quorum keeps leading (and serving lease reads) until that lease
   *  runs out instead of stepping down at the next CheckQuorum round. Only client reads can
   *  show it, so the Raft-level fuzzer (BUG_NAMES) does not list it; `muster fuzz cluster`
   *  does (sim/fuzz/cluster/bugs.ts). */
  leaseTooLong?: boolean;
}
export const LEASE_TOO_LONG_FACTOR = 20;
/** The bugs `muster fuzz raft` plants and its checkers can see (no client reads there). */
export const BUG_NAMES = ['double-vote', 'commit-old-term', 'no-fsync-vote'] as const;
export type BugName = (typeof BUG_NAMES)[number];
export function bugsFromName(name: BugName): RaftBugs {
  switch (name) {
    case 'double-vote':
      return { doubleVote: true };
    case 'commit-old-term':
      return { commitOldTerm: true };
    case 'no-fsync-vote':
      return { noFsyncVote: true };
  }
}

export interface RaftConfig {
  /** 'ip:port'; Consul 0.5 uses the server's RPC address as its Raft ID. */
  id: string;
  /** Local port Raft messages are sent from / received on (8300). */
  port: number;
  /** Base election timeout; the armed timeout is drawn from [T, 2T). Also the follower's
   *  "heartbeat timeout" (hashicorp/raft names them apart; we use one knob). */
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** A leader serves lease reads while a quorum acknowledged it within this window. Must be
   *  below electionTimeoutMs: followers refuse votes for that long after hearing a leader. */
  leaderLeaseMs: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxAppendEntries: number;
  maxInflight: number;
  /** Byte budget of one append's entries (default: 1000 over 'udp', 4 MiB over 'tcp'). */
  maxAppendBytes?: number;
  /** Ask the host for a snapshot once this many entries were applied since the last one. */
  snapshotThreshold: number;
  /** Entries kept in the log behind a snapshot, so slightly lagging followers avoid InstallSnapshot. */
  trailingLogs: number;
  /** Consul's -bootstrap: a server alone in its peer set may elect itself. */
  enableSingleNode: boolean;
  /** Transport class for Raft messages. Consul uses TCP; the fuzzer sometimes picks 'udp' to
   *  expose the protocol to loss, duplication and reordering. */
  via?: 'tcp' | 'udp';
  bugs?: RaftBugs;
}

/**
 * LAN defaults. Consul 0.5 waits 1 s (0.7+: 5 s) before a follower notices a dead leader; we
 * follow the Raft paper's 150–300 ms advice with a safety margin:
 *  - heartbeat 50 ms, election timeout 250 ms (drawn in [250, 500)) ⇒ a crash is noticed in
 *    ≤ 500 ms and a new leader is in place well under 1 s (`muster bench raft`, 100 seeds:
 *    median 304 ms, p99 770 ms; it was 367 / 928 ms at 300 ms);
 *  - five heartbeats per minimum timeout ⇒ a spurious election at 5 % loss needs five losses
 *    in a row (p ≈ 3e-7 per window); the bench sees none in 60 s at 5 % loss (nor did 5×60 s
 *    on 3 servers and 60 s on 5 when this default was chosen);
 *  - lease 200 ms < 250 ms minimum election timeout, so a lease (counted from the heartbeat's
 *    send time) always ends before the vote refusal window (counted from its receipt) of the
 *    followers that granted it, with 50 ms to spare for clock-rate drift.
 */
export function defaultRaftConfig(id: string): RaftConfig {
  return {
    id,
    port: portOf(id),
    electionTimeoutMs: 250,
    heartbeatIntervalMs: 50,
    leaderLeaseMs: 200,
    // PreVote on: a server that was partitioned away (or restarted with a stale peer set, as in
    // the walkthrough's -rejoin step) first asks whether it could win; it does not bump its term
    // and so cannot depose a healthy leader when it comes back.
    preVote: true,
    // CheckQuorum on: a leader that has not heard from a majority for an election timeout steps
    // down, so lease reads are safe and a minority-side leader stops answering "default" reads.
    // It also turns on leader stickiness: followers that heard from a leader recently reject
    // votes, Consul's "Rejecting vote from … since we have a leader: …".
    checkQuorum: true,
    maxAppendEntries: 64,
    maxInflight: 8,
    snapshotThreshold: 8192,
    trailingLogs: 10240,
    enableSingleNode: false,
  };
}

function portOf(id: string): number {
  const i = id.lastIndexOf(':');
  const p = i >= 0 ? Number(id.slice(i + 1)) : NaN;
  return Number.isInteger(p) ? p : 8300;
}

// ---------------------------------------------------------------------------------- log

export type EntryType = 'cmd' | 'noop' | 'peers';
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  /** cmd: the client's bytes; peers: UTF-8 JSON array of 'ip:port' (the new peer set). */
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------- messages

export interface RequestVoteMsg {
  t: 'raft.vote';
  term: number;
  candidate: string;
  lastLogIndex: number;
  lastLogTerm: number;
  /** PreVote round: `term` is the term the candidate would use; nobody changes state. */
  pre: boolean;
  /** Sent after TimeoutNow: bypasses leader stickiness. */
  transfer: boolean;
}
export interface RequestVoteResp {
  t: 'raft.voteResp';
  term: number;
  granted: boolean;
  pre: boolean;
}
export interface AppendEntriesMsg {
  t: 'raft.append';
  term: number;
  leader: string;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
}
export interface AppendEntriesResp {
  t: 'raft.appendResp';
  term: number;
  success: boolean;
  /** success: the follower's last index matching the leader (prevLogIndex + entries). */
  matchIndex: number;
  /** The prevLogIndex of the request answered (lets the leader drop stale rejects). */
  rejectedIndex: number;
  /** Fast back-off hints (Raft thesis §5.3): the follower's term at rejectedIndex (0 if its
   *  log is shorter) and the first index it holds for that term (or its lastIndex+1). */
  conflictTerm: number;
  conflictIndex: number;
}
export interface HeartbeatMsg {
  t: 'raft.heartbeat';
  term: number;
  leader: string;
  /** min(follower's match, leader's commit): never ahead of what the follower is known to hold. */
  commit: number;
  /** ReadIndex round number, echoed back. */
  ctx: number;
  /** Leader's clock when sent, echoed back: lease reads count from the send time. */
  sentMs: number;
}
export interface HeartbeatResp {
  t: 'raft.heartbeatResp';
  term: number;
  ctx: number;
  sentMs: number;
}
export interface InstallSnapshotMsg {
  t: 'raft.snapshot';
  term: number;
  leader: string;
  index: number;
  lastTerm: number;
  peers: string[];
  data: Uint8Array;
}
export interface InstallSnapshotResp {
  t: 'raft.snapshotResp';
  term: number;
  index: number;
  success: boolean;
}
export interface TimeoutNowMsg {
  t: 'raft.timeoutNow';
  term: number;
  leader: string;
}

export type RaftMessage =
  | RequestVoteMsg
  | RequestVoteResp
  | AppendEntriesMsg
  | AppendEntriesResp
  | HeartbeatMsg
  | HeartbeatResp
  | InstallSnapshotMsg
  | InstallSnapshotResp
  | TimeoutNowMsg;

// ---------------------------------------------------------------------------------- inputs / effects

export type RaftInput =
  | TimerInput
  | ReceiveInput<RaftMessage>
  | UnreachableInput<RaftMessage>
  /** Step once when the host has started: arms timers, replays a restored snapshot, repairs a torn log. */
  | { kind: 'start' }
  | { kind: 'propose'; reqId: number; data: Uint8Array }
  /** Several proposals at once: one log write and one sync for all of them (group commit). */
  | { kind: 'proposeBatch'; items: { reqId: number; data: Uint8Array }[] }
  | { kind: 'read'; reqId: number; mode: 'lease' | 'readIndex' }
  /** Single-server changes, one at a time, on the leader. reqId (optional) gets a proposeResult. */
  | { kind: 'addPeer'; addr: string; reqId?: number }
  | { kind: 'removePeer'; addr: string; reqId?: number }
  | { kind: 'bootstrap'; peers: string[] }
  | { kind: 'transferLeadership'; to?: string }
  | { kind: 'leave' }
  | { kind: 'snapshotTaken'; index: number; term: number; data: Uint8Array };

export type RaftState = 'Follower' | 'Candidate' | 'Leader';

export type RaftEffect =
  | BaseEffect<RaftMessage>
  | { kind: 'apply'; index: number; term: number; data: Uint8Array }
  | { kind: 'restoreSnapshot'; index: number; term: number; data: Uint8Array }
  | { kind: 'takeSnapshot'; index: number }
  | { kind: 'proposeResult'; reqId: number; ok: boolean; index?: number; error?: string; leader?: string }
  | { kind: 'readResult'; reqId: number; ok: boolean; index?: number; error?: string; leader?: string }
  | { kind: 'stateChange'; state: RaftState; term: number; leader: string | null };

export const TIMER_ELECTION = 'raft.election';
export const TIMER_HEARTBEAT = 'raft.heartbeat';
