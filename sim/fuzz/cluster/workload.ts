// sim/fuzz/cluster/workload.ts — the fuzz clients: each runs its op list against its local agent's HTTP
// API (the same handler express serves in real mode) and records what it saw.
//
// Owns: turning ClientOps into HTTP requests (KV put/get/cas/delete with default, consistent and
// stale reads, session locks, service registration, health reads), the history the checkers
// read (with unknown outcomes kept unknown), and the clients' lock beliefs.
// Must never: judge the answers (checks.ts does); retry a write behind the checker's back (a
// retried write would be a second operation the history does not show).
import type { Operation, KvInput, KvOutput } from '../linearizability.ts';
import type { HttpOutcome } from '../../http.ts';
import type { FuzzCluster, Slot } from './cluster.ts';
import { LOCK_KEYS } from './arbitrary.ts';
import type { ClientOp, Step } from './case.ts';

const SESSION_AFTER_REJOIN_MS = 5_000;
const API = 'http://127.0.0.1:8500';

export interface ReadRecord {
  client: number;
  key: string;
  value: string | null;
  call: number;
  ret: number;
}
export interface HealthRecord {
  client: number;
  svc: string;
  ids: string[];
  nodes: string[];
  call: number;
  ret: number;
}
export interface LockHold {
  client: number;
  key: string;
  session: string;
  /** The acquire's response time: from here the client believes it holds the lock. */
  from: number;
  /** When the client let go (release sent, or its agent told to leave); Infinity if never. */
  to: number;
}

export interface History {
  /** Operations that must be linearizable: writes, default and consistent reads, cas, locks. */
  kv: Operation<KvInput, KvOutput>[];
  stale: ReadRecord[];
  /** Every value a write tried to store, with the time the write was sent. */
  written: { key: string; value: string; call: number }[];
  health: HealthRecord[];
  /** Service IDs ever registered, with the time the registration was sent. */
  registered: { id: string; call: number }[];
  holds: LockHold[];
  /** Worker index → its name ('c1', or 'c1.w2' when a client host runs several workers). */
  labels: string[];
  counts: { ops: number; ok: number; failed: number; unknown: number; skipped: number };
}

export function emptyHistory(): History {
  return { kv: [], stale: [], written: [], health: [], registered: [], holds: [], labels: [], counts: { ops: 0, ok: 0, failed: 0, unknown: 0, skipped: 0 } };
}

type Res = { kind: 'ok'; status: number; body: string } | { kind: 'refused' } | { kind: 'lost'; why: string };

const b64 = (s: string | null): string | null => (s === null ? null : Buffer.from(s, 'base64').toString('utf8'));

export class FuzzClient {
  /** Steps of this worker's list started so far. */
  pos = 0;
  private seq = 0;
  private session: string | null = null;
  inFlight = 0;
  private stopped = false;
  /** Open lock beliefs (index into history.holds). */
  private open: number[] = [];

  constructor(
    /** Worker index over the whole run (the history's client id). */
    readonly index: number,
    readonly label: string,
    readonly slot: Slot,
    private readonly c: FuzzCluster,
    private readonly steps: Step[],
    private readonly h: History,
    private readonly timeoutMs: number,
  ) {
    h.labels[index] = label;
  }

  get sessionId(): string | null {
    return this.session;
  }

  private now(): number {
    return this.c.world.nowMs();
  }

  private request(method: string, path: string, body: string | undefined, done: (r: Res) => void): void {
    this.inFlight++;
    const finish = (o: HttpOutcome): void => {
      this.inFlight--;
      if (o.ok) done({ kind: 'ok', status: o.status, body: o.body });
      else if (o.reason === 'refused' || o.reason === 'nohost') done({ kind: 'refused' });
      else done({ kind: 'lost', why: o.reason });
    };
    if (!this.c.isUp(this.slot)) {
      // The client runs on its agent's host: a down host cannot send.
      this.c.world.schedule(this.now(), 'client refused', () => finish({ ok: false, reason: 'refused', detail: 'host down' }));
      return;
    }
    this.c.world.httpRequest(this.slot.ip, `${API}${path}`, { method, body, timeoutMs: this.timeoutMs }, finish);
  }

  /** After a leave: the pid that left, and when the restarted agent may host a session again. */
  private leftPid: number | null = null;
  private sessionOkAtMs = 0;

  /** Create a session for locks (no health checks, no lock delay: only our release or a leave ends it). */
  createSession(done: (ok: boolean) => void): void {
    // The leader deregisters a node that left (destroying its sessions) when it processes the
    // leave, which may lag; a session made by the leaving agent, or right after its restart,
    // could die with it. Wait for a new process and a few seconds.
    if (this.leftPid !== null) {
      const pid = this.c.proc(this.slot)?.pid ?? this.leftPid;
      if (pid === this.leftPid) return done(false);
      this.leftPid = null;
      this.sessionOkAtMs = this.now() + SESSION_AFTER_REJOIN_MS;
    }
    if (this.now() < this.sessionOkAtMs) return done(false);
    const body = JSON.stringify({ Name: `fuzz-${this.label}`, Checks: [], LockDelay: '0s' });
    this.request('PUT', '/v1/session/create', body, (r) => {
      if (r.kind === 'ok' && r.status === 200) {
        this.session = (JSON.parse(r.body) as { ID: string }).ID;
        done(true);
      } else done(false);
    });
  }

  start(t0: number, endMs: number): void {
    const next = (): void => {
      if (this.stopped || this.pos >= this.steps.length) return;
      const step = this.steps[this.pos++]!;
      this.c.world.schedule(this.now() + step.gapMs, 'client op', () => {
        if (this.stopped || this.now() >= endMs) return;
        this.h.counts.ops++;
        this.run(step.op, next);
      });
    };
    this.c.world.schedule(t0, 'client start', next);
  }

  stop(): void {
    this.stopped = true;
  }

  /** The client's agent was told to stop (leave destroys its sessions): beliefs end now. */
  agentStopping(graceful: boolean): void {
    if (!graceful) return;
    this.leftPid = this.c.proc(this.slot)?.pid ?? -1;
    const t = this.now();
    for (const i of this.open) this.h.holds[i]!.to = Math.min(this.h.holds[i]!.to, t);
    this.open = [];
    if (this.session) {
      for (const key of LOCK_KEYS) this.h.kv.push({ clientId: 1000 + this.index, input: { op: 'invalidate', key, session: this.session }, call: t });
      this.session = null;
    }
  }

  private value(): string {
    return `${this.label}.${++this.seq}`;
  }

  private tally(r: Res): void {
    if (r.kind === 'ok' && r.status === 200) this.h.counts.ok++;
    else if (r.kind === 'lost' || (r.kind === 'ok' && r.status >= 500)) this.h.counts.unknown++;
    else this.h.counts.failed++;
  }

  /** Record a KV write: 200 ⇒ its output; refused ⇒ never happened; anything else ⇒ unknown. */
  private write(input: KvInput, call: number, r: Res, output: (body: string) => KvOutput): void {
    this.tally(r);
    if (r.kind === 'refused') return;
    if (r.kind === 'ok' && r.status === 200) this.h.kv.push({ clientId: this.index, input, call, ret: this.now(), output: output(r.body) });
    else this.h.kv.push({ clientId: this.index, input, call });
  }

  /** A KV read; calls back with (value, modifyIndex) when it answered, or null. */
  private read(key: string, mode: 'default' | 'consistent' | 'stale', done: (v: { value: string | null; index: number } | null) => void): void {
    const call = this.now();
    const q = mode === 'default' ? '' : `?${mode}`;
    this.request('GET', `/v1/kv/${key}${q}`, undefined, (r) => {
      this.tally(r);
      let got: { value: string | null; index: number } | null = null;
      if (r.kind === 'ok' && r.status === 404) got = { value: null, index: 0 };
      else if (r.kind === 'ok' && r.status === 200) {
        const e = (JSON.parse(r.body) as { Value: string | null; ModifyIndex: number }[])[0]!;
        got = { value: b64(e.Value), index: e.ModifyIndex };
      }
      if (got) {
        const ret = this.now();
        if (mode === 'stale') this.h.stale.push({ client: this.index, key, value: got.value, call, ret });
        else this.h.kv.push({ clientId: this.index, input: { op: 'get', key }, call, ret, output: { value: got.value } });
      }
      done(got);
    });
  }

  /** A consistent read outside the op list (the liveness phase's fresh reads). */
  readConsistent(key: string, done: (answered: boolean) => void): void {
    this.read(key, 'consistent', (got) => done(got !== null));
  }

  private put(key: string, done: () => void): void {
    const value = this.value();
    const call = this.now();
    this.h.written.push({ key, value, call });
    this.request('PUT', `/v1/kv/${key}`, value, (r) => {
      this.write({ op: 'put', key, value }, call, r, () => ({}));
      done();
    });
  }

  run(op: ClientOp, done: () => void): void {
    switch (op.k) {
      case 'put':
        return this.put(op.key, done);
      case 'get':
        return this.read(op.key, op.mode, () => done());
      case 'del': {
        const call = this.now();
        this.request('DELETE', `/v1/kv/${op.key}`, undefined, (r) => {
          this.write({ op: 'delete', key: op.key }, call, r, () => ({}));
          done();
        });
        return;
      }
      case 'cas':
        this.read(op.key, op.mode, (got) => {
          if (!got) return done();
          const value = this.value();
          const call = this.now();
          this.h.written.push({ key: op.key, value, call });
          this.request('PUT', `/v1/kv/${op.key}?cas=${got.index}`, value, (r) => {
            this.write({ op: 'cas', key: op.key, expect: got.value, value }, call, r, (b) => ({ ok: b.trim() === 'true' }));
            done();
          });
        });
        return;
      case 'lock':
        return this.lock(op.key, op.holdMs, done);
      case 'register': {
        const id = `${op.svc}-${this.slot.name}`;
        this.h.registered.push({ id, call: this.now() });
        const body = JSON.stringify({ Name: op.svc, ID: id, Port: 8000 + this.c.clients.indexOf(this.slot) });
        this.request('PUT', '/v1/agent/service/register', body, (r) => {
          this.tally(r);
          done();
        });
        return;
      }
      case 'deregister':
        this.request('PUT', `/v1/agent/service/deregister/${op.svc}-${this.slot.name}`, undefined, (r) => {
          this.tally(r);
          done();
        });
        return;
      case 'health': {
        const call = this.now();
        this.request('GET', `/v1/health/service/${op.svc}${op.mode === 'stale' ? '?stale' : ''}`, undefined, (r) => {
          this.tally(r);
          if (r.kind === 'ok' && r.status === 200) {
            const list = JSON.parse(r.body) as { Node: { Node: string }; Service: { ID: string } }[];
            this.h.health.push({ client: this.index, svc: op.svc, ids: list.map((e) => e.Service.ID), nodes: list.map((e) => e.Node.Node), call, ret: this.now() });
          }
          done();
        });
        return;
      }
    }
  }

  private lock(key: string, holdMs: number, done: () => void): void {
    if (!this.session) {
      this.createSession((ok) => (ok ? this.lock(key, holdMs, done) : (this.h.counts.skipped++, done())));
      return;
    }
    const session = this.session;
    const value = this.value();
    const call = this.now();
    this.h.written.push({ key, value, call });
    this.request('PUT', `/v1/kv/${key}?acquire=${session}`, value, (r) => {
      this.write({ op: 'acquire', key, session, value }, call, r, (b) => ({ ok: b.trim() === 'true' }));
      const won = r.kind === 'ok' && r.status === 200 && r.body.trim() === 'true';
      const maybe = r.kind === 'lost' || (r.kind === 'ok' && r.status >= 500);
      if (!won && !maybe) return done();
      let hold = -1;
      if (won) {
        hold = this.h.holds.push({ client: this.index, key, session, from: this.now(), to: Infinity }) - 1;
        this.open.push(hold);
      }
      this.c.world.schedule(this.now() + holdMs, 'client release', () => {
        if (hold >= 0) {
          this.open = this.open.filter((i) => i !== hold);
          this.h.holds[hold]!.to = Math.min(this.h.holds[hold]!.to, this.now());
        }
        if (this.session !== session) return done(); // the session ended with a leave
        const rcall = this.now();
        this.request('PUT', `/v1/kv/${key}?release=${session}`, undefined, (rr) => {
          this.write({ op: 'release', key, session }, rcall, rr, (b) => ({ ok: b.trim() === 'true' }));
          // A release with unknown outcome may still land after a later acquire by this session
          // and silently free the lock; never reuse the session after one.
          if (rr.kind === 'lost' || (rr.kind === 'ok' && rr.status >= 500)) {
            if (this.session === session) this.session = null;
          }
          done();
        });
      });
    });
  }
}
