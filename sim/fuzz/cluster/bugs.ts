// sim/fuzz/cluster/bugs.ts — the test-only bug switches the cluster fuzzer can plant, by name.
//
// Owns: mapping a bug name to the agent's planted bugs (core/agent AgentBugs) or Raft knobs /
// planted Raft bugs (core/raft RaftBugs), so a fuzz run can prove its checkers fail.
// Must never: plant anything when no bug is named.
import type { AgentBugs } from '../../../core/agent/agent.ts';
import { bugsFromName, type RaftConfig } from '../../../core/raft/types.ts';

export const CLUSTER_BUGS = ['stale-read', 'lease-too-long', 'lost-ack', 'double-vote', 'commit-old-term', 'no-fsync-vote'] as const;
export type BugName = (typeof CLUSTER_BUGS)[number];

export function isBugName(s: string): s is BugName {
  return (CLUSTER_BUGS as readonly string[]).includes(s);
}

export interface BugSetup {
  agentBugs?: AgentBugs;
  raft?: Partial<RaftConfig>;
}

export function bugSetup(name: BugName | undefined): BugSetup {
  switch (name) {
    case undefined:
      return {};
    case 'stale-read':
      return { agentBugs: { staleRead: true } };
    case 'lost-ack':
      return { agentBugs: { lostAck: true } };
    case 'lease-too-long':
      // The lease outlives the followers' vote-refusal window (one election timeout) and the
      // leader trusts it over CheckQuorum: deposed by a partition, it keeps answering default
      // reads from its stale state until the lease runs out (core/raft RaftBugs.leaseTooLong).
      return { raft: { bugs: { leaseTooLong: true } } };
    case 'double-vote':
    case 'commit-old-term':
    case 'no-fsync-vote':
      return { raft: { bugs: bugsFromName(name) } };
  }
}
