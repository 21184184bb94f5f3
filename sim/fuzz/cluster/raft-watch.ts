// sim/fuzz/cluster/raft-watch.ts — watching the servers' Raft state while a cluster case runs.
//
// Owns: after every simulated event, at most one leader per term (and leader completeness when
// a leader appears, vote safety and election quorum, via sim/raft's RaftChecker, fed with the
// votes seen in the servers' durable vote record); a leader's commit index only moving to an
// entry a majority of its peers hold; every few hundred virtual ms, committed entries are
// recorded (state-machine safety, commit never decreasing per process lifetime); log matching
// between live servers; telling the fault runner about every vote and every event (the
// crash-after-vote trigger and the adversaries act on them).
// Must never: change Raft state.
import { RaftChecker } from '../raft/checkers.ts';
import type { Violation } from '../violation.ts';
import { countVoters, majorityOfEither } from '../../../core/raft/quorum.ts';
import type { RaftNode, RequestVoteResp } from '../../../core/raft/node.ts';
import type { FuzzCluster, Slot } from './cluster.ts';
import type { FaultRunner } from './faults.ts';

interface Seen {
  pid: number;
  term: number;
  leader: boolean;
  vote: string | null;
}

export class RaftWatch {
  readonly checker = new RaftChecker();
  private readonly seen = new Map<string, Seen>();
  elections = 0;

  constructor(
    private readonly c: FuzzCluster,
    private readonly faults: FaultRunner | null,
  ) {}

  /** Leader `${term}/${id}` → its commit index when last seen (the first sighting is a baseline:
   *  a commit index carried over from an earlier term was decided under that term's peers). */
  private readonly leaderCommit = new Map<string, { commit: number; peers: string[] }>();

  /** A leader that moves its commit index forward must have the entry there on a majority of
   *  its peer set — ground truth: the servers' logs (crashed ones too: log writes are synced). */
  private checkCommitQuorum(nowMs: number, r: RaftNode): void {
    const key = `${r.term}/${r.id}`;
    const commit = r.commitIndex;
    const before = this.leaderCommit.get(key);
    this.leaderCommit.set(key, { commit, peers: r.peers });
    if (before === undefined || commit <= before.commit) return;
    const term = r.termAt(commit);
    if (term === null) return;
    const byId = new Map<string, RaftNode>();
    for (const s of this.c.servers) {
      const n = s.handle.agent?.agent.raft;
      if (n) byId.set(n.id, n);
    }
    const holds = (p: string): boolean => {
      const node = p === r.id ? r : byId.get(p);
      return !!node && (commit < node.firstLogIndex ? node.commitIndex >= commit : node.termAt(commit) === term);
    };
    // One event may both commit under the old peer set and append a single-server change;
    // either set's majority is then enough (they overlap).
    const any = r.peers.length > 0 || before.peers.length > 0;
    if (any && !majorityOfEither(r.peers, before.peers, holds)) {
      this.checker.violations.push({
        invariant: 'commit quorum',
        detail: `${r.id} (term ${r.term}) committed index ${commit} held by only ${countVoters(r.peers, holds)} of its peers [${r.peers.join(', ')}]`,
        atMs: nowMs,
      });
    }
  }

  get violations(): Violation[] {
    return this.checker.violations;
  }

  private readonly lifePid = new Map<string, number>();

  /** Volatile Raft state (commit index) starts again with each process. */
  private live(s: Slot): RaftNode | null {
    const r = this.c.raftOf(s);
    if (!r) return null;
    const pid = this.c.proc(s)?.pid ?? -1;
    if (this.lifePid.get(s.name) !== pid) {
      this.lifePid.set(s.name, pid);
      this.checker.newLifetime(r.id);
    }
    return r;
  }

  /** Cheap: called after every event. */
  observe(nowMs: number): void {
    for (const s of this.c.servers) {
      const r = this.live(s);
      if (!r) continue;
      const pid = this.c.proc(s)?.pid ?? -1;
      const term = r.term;
      const leader = r.state === 'Leader';
      const vote = r.vote;
      if (r.state === 'Leader') this.checkCommitQuorum(nowMs, r);
      const prev = this.seen.get(s.name);
      if (prev && prev.pid === pid && prev.term === term && prev.leader === leader && prev.vote === vote) continue;
      this.seen.set(s.name, { pid, term, leader, vote });
      if (leader && !(prev && prev.pid === pid && prev.term === term && prev.leader)) this.onLeader(nowMs, r);
      const votedNow = vote !== null && vote !== r.id && prev !== undefined && prev.pid === pid && (prev.vote !== vote || prev.term !== term);
      // The checker learns votes from the vote responses a node sends; we see the durable
      // record change instead, right after the event that granted it.
      if (votedNow) {
        const grant: RequestVoteResp = { t: 'raft.voteResp', term, granted: true, pre: false };
        this.checker.afterStep(nowMs, r.id, r, [{ kind: 'send', fromPort: r.config.port, to: vote, via: r.config.via ?? 'tcp', msg: grant }]);
      }
      if (votedNow) this.faults?.onVote(s, term, vote);
    }
    this.faults?.afterEvent(nowMs);
  }

  private onLeader(nowMs: number, r: RaftNode): void {
    this.elections++;
    const id = r.id;
    // Record what every live server has committed so far; then election safety (one leader
    // per term) and leader completeness, by RaftChecker, as if the node had emitted the change.
    this.sample(nowMs);
    this.checker.afterStep(nowMs, id, r, [{ kind: 'stateChange', state: 'Leader', term: r.term, leader: id }]);
  }

  /** Record newly committed entries on every live server. */
  sample(nowMs: number): void {
    for (const s of this.c.servers) {
      const r = this.live(s);
      if (r) this.checker.afterStep(nowMs, r.id, r, []);
    }
  }

  checkLogMatching(nowMs: number): void {
    const live: [string, RaftNode][] = [];
    for (const s of this.c.servers) {
      const r = this.c.raftOf(s);
      if (r) live.push([r.id, r]);
    }
    this.checker.checkLogMatching(nowMs, live);
  }
}
