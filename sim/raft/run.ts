// sim/raft/run.ts — run one Raft scenario end to end and report what the checkers found.
//
// Owns: the run's phases — chaos (faults + workload), heal (partitions lifted, links reset,
// crashed servers restarted), liveness (a leader within a bound, every pending proposal
// resolved, a fresh write committed), final safety checks.
// Must never: decide pass/fail by timing of the host machine; only virtual time exists here.
import { makeRng } from '../../core/rng.ts';
import { bugsFromName, type BugName } from '../../core/raft/node.ts';
import { DEFAULT_LINK } from '../world.ts';
import { RaftCluster } from './cluster.ts';
import type { Violation } from './checkers.ts';
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
  const world = [];
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
    } else if (f.kind === 'crashAfterVote' || f.kind === 'crashLeaderBeforeSend') {
      w.schedule(f.atMs, `fault arm ${f.kind}`, () => c.armed.push({ kind: f.kind === 'crashAfterVote' ? 'afterVote' : 'beforeSend', downMs: f.downMs }));
    } else {
      if (f.kind === 'link') touchedLinks.add(`${f.from}>${f.to}`);
      world.push(f);
    }
  }
  w.applyFaults(world);
  c.startAll();
  c.workload(scenario.proposeEveryMs, scenario.chaosMs);
  const checkEvery = 250;
  const periodic = (): void => {
    c.checker.checkLogMatching(w.nowMs(), c.live());
    w.schedule(w.nowMs() + checkEvery, 'check.logMatching', periodic);
  };
  w.schedule(checkEvery, 'check.logMatching', periodic);

  w.runUntil(scenario.chaosMs);
  c.armed.length = 0;

  // Heal: lift partitions, reset links, bring every server back.
  const healAt = w.nowMs();
  w.net.heal();
  for (const key of touchedLinks) {
    const [from, to] = key.split('>') as [string, string];
    w.net.setLink(from, to, { ...DEFAULT_LINK, ...scenario.link });
  }
  for (const ip of ips) if (w.host(ip).processes().length === 0) w.host(ip).restart();

  let recoveryMs: number | null = null;
  const settled = (): boolean => c.leader() !== null && c.live().length === scenario.servers && c.pendingOnLive().length === 0;
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
      atMs: w.nowMs(),
    });
  }
  // Let followers catch up, then the final checks.
  w.runFor(1000);
  const now = w.nowMs();
  c.checker.checkLogMatching(now, c.live());
  const l = c.leader();
  if (l) c.checker.checkAckedKept(now, l[0], l[1]);

  let acked = 0;
  for (const p of c.proposals.values()) if (p.ok) acked++;
  return {
    seed,
    scenario,
    violations: c.checker.violations,
    proposals: c.proposals.size,
    acked,
    elections: c.elections,
    recoveryMs,
    traceHash: opts.trace ? w.traceHash() : '',
  };
}

export function runSeed(seed: string, opts: { bug?: BugName; trace?: boolean } = {}): RunResult {
  return runScenario(seed, scenarioForSeed(seed), opts);
}
