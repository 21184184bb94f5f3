// sim/fuzz/raft/run.ts — run one Raft scenario end to end and report what the checkers found.
//
// Owns: the run's phases — chaos (faults, adversaries, membership changes + workload), heal
// (partitions lifted, links reset, crashed servers restarted, adversaries disarmed, every
// server added back to the peer set), liveness (a leader within a bound holding every server
// in its peer set, every pending proposal resolved, a fresh write committed), final safety
// checks.
// Must never: decide pass/fail by timing of the host machine; only virtual time exists here.
import { makeRng } from '../../../core/rng.ts';
import { bugsFromName, type BugName } from '../../../core/raft/node.ts';
import { DEFAULT_LINK, type Fault } from '../../world.ts';
import { RaftCluster } from '../../raft/cluster.ts';
import { Figure8Adversary, SplitVoteAdversary, type Adversary } from './adversary.ts';
import { violationFromError, type Violation } from '../violation.ts';
import { randomScenario, serverIps, type Scenario } from './schedule.ts';

export interface RunResult {
  seed: string;
  scenario: Scenario;
  violations: Violation[];
  proposals: number;
  acked: number;
  elections: number;
  /** Virtual ms from heal until a leader with every pending proposal resolved. */
  recoveryMs: number | null;
  /** What each adversary got to (completed / gave up in which phase). */
  adversaries: string[];
  /** Membership changes the leader accepted and committed during the run. */
  peerChanges: number;
  traceHash: string;
}

export const LIVENESS_BOUND_MS = 15_000;

export function scenarioForSeed(seed: string): Scenario {
  return randomScenario(makeRng(`raft-scenario/${seed}`));
}

export function runScenario(seed: string, scenario: Scenario, opts: { bug?: BugName; trace?: boolean } = {}): RunResult {
  const config = { ...scenario.config, bugs: opts.bug ? bugsFromName(opts.bug) : undefined };
  const c = new RaftCluster({ seed, servers: scenario.servers, config, link: scenario.link, traceEnabled: opts.trace ?? false });
  const w = c.world;
  const ips = serverIps(scenario.servers);
  const touchedLinks = new Set<string>();
  const world: Fault[] = [];
  let recoveryMs: number | null = null;
  const adversaries: Adversary[] = [];
  for (const f of scenario.faults) {
    if (f.kind === 'crashLeader') {
      w.schedule(f.atMs, 'fault crashLeader', () => {
        const l = c.leader();
        if (!l) return;
        const ip = c.server(l[0]).ip;
        w.host(ip).crash();
        w.schedule(w.nowMs() + f.downMs, `fault restart ${ip}`, () => {
          if (w.host(ip).processes().length === 0) w.host(ip).restart();
        });
      });
    } else if (f.kind === 'isolateLeader') {
      w.schedule(f.atMs, 'fault isolateLeader', () => {
        const l = c.leader();
        if (!l) return;
        w.net.isolate(c.server(l[0]).ip);
        w.schedule(w.nowMs() + f.forMs, 'fault heal', () => w.net.heal());
      });
    } else if (f.kind === 'figure8') {
      const a = new Figure8Adversary(c, { phaseMs: f.phaseMs });
      adversaries.push(a);
      w.schedule(f.atMs, 'fault figure8', () => a.fire());
    } else if (f.kind === 'splitVote') {
      const a = new SplitVoteAdversary(c, { downMs: f.downMs, windowMs: f.windowMs, rounds: f.rounds });
      adversaries.push(a);
      w.schedule(f.atMs, 'fault splitVote', () => a.fire());
    } else if (f.kind === 'removePeer' || f.kind === 'addPeer' || f.kind === 'leave') {
      w.schedule(f.atMs, `fault ${f.kind}`, () => changeMembership(c, f.kind));
    } else if (f.kind === 'crashAfterVote' || f.kind === 'crashLeaderBeforeSend') {
      w.schedule(f.atMs, `fault arm ${f.kind}`, () => c.armed.push({ kind: f.kind === 'crashAfterVote' ? 'afterVote' : 'beforeSend', downMs: f.downMs }));
    } else {
      if (f.kind === 'link') touchedLinks.add(`${f.from}>${f.to}`);
      world.push(f);
    }
  }
  // An assertion inside a machine (RaftInvariantError) or any other throw ends the run as a
  // violation of its own, with the seed to replay it.
  try {
    drive();
  } catch (err) {
    c.checker.violations.push(violationFromError(err, w.nowMs()));
  }
  return result();

  function drive(): void {
    w.applyFaults(world);
    c.startAll();
    c.workload(scenario.proposeEveryMs, scenario.chaosMs);
    const checkEvery = 250;
    const periodic = (): void => {
      c.checker.checkLogMatching(w.nowMs(), c.live());
      w.schedule(w.nowMs() + checkEvery, 'check.logMatching', periodic);
    };
    w.schedule(checkEvery, 'check.logMatching', periodic);

    // A violation ends the run: what follows a broken invariant only muddies the report (and a
    // planted bug can leave the cluster in states no correct Raft reaches).
    const broken = (): boolean => c.checker.violations.length > 0;
    if (w.runUntilTrue(broken, scenario.chaosMs - w.nowMs())) return;
    c.armed.length = 0;
    for (const a of adversaries) a.disarm();

    // Heal: lift partitions, reset links, bring every server back.
    const healAt = w.nowMs();
    w.net.heal();
    for (const key of touchedLinks) {
      const [from, to] = key.split('>') as [string, string];
      w.net.setLink(from, to, { ...DEFAULT_LINK, ...scenario.link });
    }
    for (const ip of ips) if (w.host(ip).processes().length === 0) w.host(ip).restart();

    // Servers removed (or left) during the chaos are added back, one at a time, by the leader.
    const missing = (): string[] => {
      const l = c.leader();
      return l ? c.ids.filter((id) => !l[1].peers.includes(id)) : c.ids;
    };
    const readd = (): void => {
      if (w.nowMs() > healAt + LIVENESS_BOUND_MS) return;
      const m = missing();
      const pending = [...c.proposals.values()].some((p) => p.doneMs === null && p.data.startsWith('addPeer:'));
      if (m.length > 0 && c.leader() && !pending) c.changePeers('addPeer', m[0]!);
      w.schedule(w.nowMs() + 100, 'heal.readd', readd);
    };
    w.schedule(w.nowMs() + 100, 'heal.readd', readd);
    const settled = (): boolean =>
      c.leader() !== null && c.live().length === scenario.servers && missing().length === 0 && c.pendingOnLive().length === 0;
    if (w.runUntilTrue(settled, LIVENESS_BOUND_MS)) {
      recoveryMs = w.nowMs() - healAt;
      // A fresh write must commit through the healed cluster (retried while leadership settles).
      const deadline = w.nowMs() + LIVENESS_BOUND_MS;
      let committed = false;
      while (!committed && w.nowMs() < deadline) {
        c.propose();
        const req = c.proposals.get(Math.max(...c.proposals.keys()))!;
        w.runUntilTrue(() => req.doneMs !== null, Math.max(0, deadline - w.nowMs()));
        committed = req.ok === true;
        if (!committed) w.runFor(50);
      }
      if (!committed) c.checker.violations.push({ invariant: 'liveness', detail: `no write committed within ${LIVENESS_BOUND_MS} ms after the cluster healed`, atMs: w.nowMs() });
    } else {
      const l = c.leader();
      const pend = c.pendingOnLive();
      c.checker.violations.push({
        invariant: 'liveness',
        detail: l
          ? `${pend.length} proposal(s) unresolved ${LIVENESS_BOUND_MS} ms after heal (first: req ${pend[0]?.reqId} on ${pend[0]?.server})`
          : `no leader ${LIVENESS_BOUND_MS} ms after heal`,
        ...(l && missing().length ? { detail: `leader ${l[0]} still lacks ${missing().join(', ')} in its peer set ${LIVENESS_BOUND_MS} ms after heal` } : {}),
        atMs: w.nowMs(),
      });
    }
    // Let followers catch up, then the final checks.
    w.runFor(1000);
    const now = w.nowMs();
    c.checker.checkLogMatching(now, c.live());
    const l = c.leader();
    if (l) c.checker.checkAckedKept(now, l[0], l[1]);
  }

  function result(): RunResult {
    let acked = 0;
    let peerChanges = 0;
    for (const p of c.proposals.values()) {
      if (p.ok) acked++;
      if (p.ok && p.data.includes('Peer:') && p.index !== undefined) peerChanges++;
    }
    return {
      seed,
      scenario,
      violations: c.checker.violations,
      proposals: c.proposals.size,
      acked,
      elections: c.elections,
      recoveryMs,
      adversaries: adversaries.map((a) => a.outcome),
      peerChanges,
      traceHash: opts.trace ? w.traceHash() : '',
    };
  }
}

export function runSeed(seed: string, opts: { bug?: BugName; trace?: boolean } = {}): RunResult {
  return runScenario(seed, scenarioForSeed(seed), opts);
}

/**
 * A membership change picked when it fires. The peer set never drops below two voters: with
 * one voter left and no -bootstrap (EnableSingleNode), a restart of that voter could never
 * elect anyone again (Consul's "no known peers"), which is a configuration error, not a bug.
 */
function changeMembership(c: RaftCluster, kind: 'removePeer' | 'addPeer' | 'leave'): void {
  const w = c.world;
  const l = c.leader();
  if (kind === 'addPeer') {
    if (!l) return;
    const out = c.ids.filter((id) => !l[1].peers.includes(id));
    if (out.length) c.changePeers('addPeer', out[w.rng.int(out.length)]!);
    return;
  }
  if (!l || l[1].peers.length < 3) return;
  const [lid, lnode] = l;
  if (kind === 'removePeer') {
    const others = lnode.peers.filter((p) => p !== lid);
    c.changePeers('removePeer', others[w.rng.int(others.length)]!);
    return;
  }
  // leave: the leader itself, or a follower that the leader then removes (Consul's leader
  // does this when it sees the member leave).
  const voters = lnode.peers.filter((p) => c.live().some(([id]) => id === p));
  const who = voters[w.rng.int(voters.length)]!;
  c.deliverSoon(who, { kind: 'leave' }, `fault leave ${who}`);
  if (who !== lid) w.schedule(w.nowMs() + 20, `fault remove left ${who}`, () => c.changePeers('removePeer', who));
}
