// sim/fuzz/cluster/run.ts — run one cluster fuzz case end to end and classify the outcome.
//
// Owns: the phases — setup (cluster forms, sessions made), safety (faults + workload, Raft
// watched after every event), liveness (faults lifted, every agent started again; within a
// bound: one leader known by all, every server's catalog identical and caught up, every
// agent's membership view all-alive, local services synced, and fresh reads answered), then
// the history checks. Verdicts: ok, crash (the simulation threw or an agent would not start),
// liveness, correctness.
// Must never: use wall-clock time for a verdict; same case ⇒ same run ⇒ same trace hash.
import { caseSize, nodeNames, type ClusterCase } from './case.ts';
import { bugSetup } from './bugs.ts';
import { FuzzCluster } from './cluster.ts';
import { FaultRunner } from './faults.ts';
import { RaftWatch } from './raft-watch.ts';
import { FuzzClient, emptyHistory, type History } from './workload.ts';
import { checkHistory } from './checks.ts';
import { violationFromError, type Violation } from '../violation.ts';
import { LOCK_KEYS, REGISTER_KEYS } from './arbitrary.ts';

export type Verdict = 'ok' | 'crash' | 'liveness' | 'correctness';

/** Exit codes as TigerBeetle's VOPR: crash, liveness, correctness. */
export const EXIT_CODES: Record<Verdict, number> = { ok: 0, crash: 127, liveness: 128, correctness: 129 };

export const SETUP_BOUND_MS = 30_000;
export const LIVENESS_BOUND_MS = 90_000;
const CHECK_EVERY_MS = 250;

export interface RunResult {
  verdict: Verdict;
  violation?: Violation;
  stats: {
    virtualMs: number;
    events: number;
    faultsFired: number;
    ops: number;
    opsOk: number;
    opsUnknown: number;
    linOps: number;
    elections: number;
    /** Virtual ms from heal until converged (null if it never did). */
    recoveryMs: number | null;
    linUnknown: boolean;
  };
  size: { faults: number; ops: number };
  /** Virtual time the safety phase began (fault and workload times count from here). */
  t0: number;
  /** Per client host, per worker: how many of its steps were started. */
  started: number[][];
  traceHash: string;
  /** The last simulator trace lines (for failure reports). */
  tail: string[];
  /** What each adversary fault got to ('completed: …', 'gave up …'), in firing order. */
  adversaries: string[];
}

export interface RunOptions {
  /** Stop the safety phase at the first Raft violation (default true). */
  stopEarly?: boolean;
  /** Look at the cluster and history when the run ends (debugging, tests). */
  inspect?: (c: FuzzCluster, h: History) => void;
}

export function runCase(kase: ClusterCase, opts: RunOptions = {}): RunResult {
  const stopEarly = opts.stopEarly ?? true;
  const c = new FuzzCluster(kase, bugSetup(kase.bug));
  const w = c.world;
  const faults = new FaultRunner(c, kase.link);
  const watch = new RaftWatch(c, faults);
  faults.onSample = (nowMs) => watch.sample(nowMs);
  const h: History = emptyHistory();
  const clients: FuzzClient[] = [];
  c.clients.forEach((s, i) => {
    const steps = kase.workload[i] ?? [];
    for (let wk = 0; wk < kase.workers; wk++) {
      const mine = steps.filter((_, j) => j % kase.workers === wk);
      const label = kase.workers === 1 ? s.name : `${s.name}.w${wk + 1}`;
      clients.push(new FuzzClient(clients.length, label, s, c, mine, h, kase.clientTimeoutMs));
    }
  });
  faults.onLeave = (s, graceful) => {
    for (const cl of clients) if (cl.slot === s) cl.agentStopping(graceful);
  };
  let recoveryMs: number | null = null;
  let verdict: Verdict = 'ok';
  let violation: Violation | undefined;
  const fail = (v: Verdict, vi: Violation): void => {
    if (verdict === 'ok') {
      verdict = v;
      violation = vi;
    }
  };
  const finish = (): RunResult => {
    opts.inspect?.(c, h);
    const size = caseSize(kase);
    return {
      verdict,
      violation,
      stats: {
        virtualMs: w.nowMs(),
        events: w.eventsRun(),
        faultsFired: faults.stats.fired,
        ops: h.counts.ops,
        opsOk: h.counts.ok,
        opsUnknown: h.counts.unknown,
        linOps: h.kv.length,
        elections: watch.elections,
        recoveryMs,
        linUnknown,
      },
      size,
      t0: safetyStart,
      started: c.clients.map((s) => clients.filter((cl) => cl.slot === s).map((cl) => cl.pos)),
      traceHash: w.traceHash(),
      tail: w.traceTail(20),
      adversaries: faults.adversaryOutcomes.map((a) => a.outcome),
    };
  };
  let linUnknown = false;
  let safetyStart = -1;

  // Periodic Raft bookkeeping, cheap per call.
  let nextSample = 0;
  const observe = (): boolean => {
    const now = w.nowMs();
    watch.observe(now);
    if (now >= nextSample) {
      watch.sample(now);
      nextSample = now + CHECK_EVERY_MS;
    }
    return stopEarly && watch.violations.length > 0;
  };
  const raftFailed = (): boolean => {
    if (watch.violations.length === 0) return false;
    fail('correctness', watch.violations[0]!);
    return true;
  };

  try {
    // ---- setup: a leader, everyone a member, every client with a session
    const formed = (): boolean => {
      const l = c.leader();
      if (!l) return false;
      const leaderId = c.raftOf(l)!.id;
      for (const s of c.servers) if (c.raftOf(s)?.leader !== leaderId) return false;
      const fsm = c.agentOf(l)?.fsm;
      return !!fsm && c.clients.every((s) => fsm.node(s.name) !== undefined);
    };
    if (!w.runUntilTrue(() => observe() || formed(), SETUP_BOUND_MS) || raftFailed()) {
      if (!raftFailed()) fail('liveness', { invariant: 'cluster forms', detail: `no leader with all clients registered within ${SETUP_BOUND_MS} ms of start`, atMs: w.nowMs() });
      return finish();
    }
    let pendingSessions = clients.length;
    const trySession = (cl: FuzzClient): void =>
      cl.createSession((ok) => {
        if (ok) pendingSessions--;
        else w.schedule(w.nowMs() + 500, 'session retry', () => trySession(cl));
      });
    clients.forEach(trySession);
    if (!w.runUntilTrue(() => observe() || pendingSessions === 0, SETUP_BOUND_MS) || raftFailed()) {
      if (!raftFailed()) fail('liveness', { invariant: 'cluster forms', detail: `sessions not created within ${SETUP_BOUND_MS} ms`, atMs: w.nowMs() });
      return finish();
    }

    // ---- safety phase
    const t0 = w.nowMs();
    safetyStart = t0;
    const end = t0 + kase.chaosMs;
    faults.schedule(kase.faults, t0);
    for (const cl of clients) cl.start(t0, end);
    w.runUntilTrue(observe, kase.chaosMs);
    if (raftFailed()) return finish();

    // ---- liveness phase: heal, start everyone, converge within the bound
    for (const cl of clients) cl.stop();
    faults.stop();
    const healAt = w.nowMs();
    let nextCheck = healAt;
    let lastGap = 'not checked';
    let startFailure: string | null = null;
    const converged = (): boolean => {
      const now = w.nowMs();
      if (now < nextCheck) return false;
      nextCheck = now + CHECK_EVERY_MS;
      for (const s of c.slots) {
        if (s.handle.agent === null) startFailure = `${s.name}: ${(w.host(s.ip).processes()[0] ?? s.handle.process).output.slice(-3).join(" | ")}`;
        else if (!c.isUp(s)) w.host(s.ip).restart();
      }
      if (startFailure) return true;
      lastGap = convergenceGap(c, clients);
      return lastGap === '';
    };
    const ok = w.runUntilTrue(() => observe() || converged(), LIVENESS_BOUND_MS);
    if (raftFailed()) return finish();
    if (startFailure) {
      fail('crash', { invariant: 'agent starts', detail: `agent would not start again: ${startFailure}`, atMs: w.nowMs() });
      return finish();
    }
    if (!ok) {
      fail('liveness', { invariant: 'convergence', detail: `not converged ${LIVENESS_BOUND_MS} ms after heal: ${lastGap}`, atMs: w.nowMs() });
      return finish();
    }
    recoveryMs = w.nowMs() - healAt;

    // Fresh reads through every client: progress, and they pin down what survived.
    let pending = 0;
    const finalFailures: string[] = [];
    for (const cl of clients) {
      for (const key of [...REGISTER_KEYS, ...LOCK_KEYS]) {
        pending++;
        const attempt = (tries: number): void =>
          cl.readConsistent(key, (answered) => {
            if (answered) pending--;
            else if (tries < 20) w.schedule(w.nowMs() + 500, 'final read retry', () => attempt(tries + 1));
            else {
              finalFailures.push(`${cl.label} get ${key}`);
              pending--;
            }
          });
        attempt(0);
      }
    }
    w.runUntilTrue(() => observe() || pending === 0, LIVENESS_BOUND_MS);
    if (raftFailed()) return finish();
    if (pending > 0 || finalFailures.length > 0) {
      fail('liveness', { invariant: 'reads answered after heal', detail: `consistent reads not answered: ${finalFailures.join(', ') || `${pending} pending`}`, atMs: w.nowMs() });
      return finish();
    }
    watch.sample(w.nowMs());
    watch.checkLogMatching(w.nowMs());
    if (raftFailed()) return finish();

    const hc = checkHistory(h, nodeNames(kase));
    linUnknown = hc.linUnknown;
    if (hc.violations.length > 0) fail('correctness', hc.violations[0]!);
    return finish();
  } catch (err) {
    // An assertion inside a machine (core/raft/invariants.ts) is a crash, as in TigerBeetle's VOPR.
    fail('crash', violationFromError(err, w.nowMs()));
    return finish();
  }
}

/** '' when converged; otherwise what is still missing (for the liveness failure text). */
export function convergenceGap(c: FuzzCluster, clients: FuzzClient[]): string {
  const l = c.leader();
  if (!l) return 'no leader';
  const lr = c.raftOf(l)!;
  const want = c.servers.map((s) => `${s.ip}:8300`).sort();
  const peers = [...lr.peers].sort();
  if (peers.join(',') !== want.join(',')) return `leader ${l.name} has peers [${peers.join(', ')}], want all servers`;
  const leaderFsm = c.agentOf(l)!.fsm!;
  const snap = leaderFsm.snapshot();
  for (const s of c.servers) {
    const r = c.raftOf(s);
    if (!r) return `${s.name} not running`;
    if (r.leader !== lr.id || r.term !== lr.term) return `${s.name} follows ${r.leader ?? 'nobody'} in term ${r.term}, leader is ${lr.id} in term ${lr.term}`;
    if (r.appliedIndex !== lr.commitIndex) return `${s.name} applied ${r.appliedIndex} of ${lr.commitIndex}`;
    if (s !== l && !sameBytes(c.agentOf(s)!.fsm!.snapshot(), snap)) return `${s.name}'s catalog differs from the leader's at index ${r.appliedIndex}`;
  }
  const names = c.slots.map((s) => s.name).sort();
  for (const s of c.slots) {
    const a = c.agentOf(s);
    if (!a) return `${s.name} not running`;
    const alive = a.lan
      .members()
      .filter((m) => m.status === 'alive')
      .map((m) => m.name)
      .sort();
    if (alive.join(',') !== names.join(',')) return `${s.name} sees alive [${alive.join(', ')}]`;
    if (!leaderFsm.node(s.name)) return `${s.name} missing from the catalog`;
    if (!a.local.everythingInSync()) return `${s.name}'s services/checks not synced to the catalog`;
    const local = a.local
      .sortedServices()
      .map((x) => x.id)
      .filter((id) => id !== 'consul')
      .sort();
    const cat = leaderFsm
      .nodeServices(s.name)
      .map((x) => x.ID)
      .filter((id) => id !== 'consul')
      .sort();
    if (local.join(',') !== cat.join(',')) return `${s.name} runs services [${local.join(', ')}], catalog says [${cat.join(', ')}]`;
  }
  const busy = clients.find((cl) => cl.inFlight > 0);
  if (busy) return `${busy.label} has ${busy.inFlight} request(s) in flight`;
  return '';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
