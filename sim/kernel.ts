// sim/kernel.ts — the virtual clock and the event loop every part of the simulated world shares.
//
// Owns: virtual time, the event queue (ordered by (time, sequence)), event dispatch, holding
// events for stalled hosts and releasing them when the stall ends, per-host liveness records,
// the root rng and the trace.
// Must never: read a real clock, use real timers, or draw randomness outside `rng` and its
// forks. Nothing here knows about sockets, disks or processes.
//
// Events are small records with a static `type` (name, code, run, describe) and a few
// untyped payload slots, so the hot paths (datagrams, stream segments, timers) allocate one
// record per event and format no strings unless tracing is on.
//
// Stall model (a process frozen by GC, swapping or a starved CPU): events addressed to a stalled
// host are held, none dropped. When the stall ends they are released the way a real event loop
// drains its backlog — Node's libuv runs the timers phase before polling sockets, and Go's
// scheduler checks timers before the netpoller — so every *expired timer* runs first (in deadline
// order), then every *held delivery* (datagrams, stream segments, signals, probe/HTTP results) in
// arrival order. A timeout therefore fires even though the answer it waited for arrived in time:
// the slow-node behaviour Lifeguard's local health is built for. The release is one kernel event
// at the stall's end; an event due exactly at that instant is not held (it runs in its own slot).
import { makeRng, type Rng } from '../core/rng.ts';
import { MinHeap } from './heap.ts';
import { Trace } from './trace.ts';

export interface EventType {
  readonly name: string;
  /** Which phase of a host's event loop runs it after a stall: expired 'timer's first, then
   *  'io' (deliveries) — see the stall model above. Default 'io'. */
  readonly phase?: 'timer' | 'io';
  /** Small integer folded into the trace digest. */
  readonly code: number;
  run(ev: SimEvent): void;
  /** Trace label; only called when tracing is enabled. */
  describe(ev: SimEvent): string;
}

export class SimEvent {
  t = 0;
  seq = 0;
  /** Index of the host this event happens on (held while that host is stalled); -1 = none. */
  host = -1;
  /** One integer folded into the digest (port, pid, length …). */
  detail = 0;
  cancelled = false;
  /** Id in the by-id table (cancellable by number), or -1. Stable when a stall re-queues. */
  id = -1;
  constructor(
    public type: EventType,
    public a: any,
    public b: any,
  ) {}
}

/** Liveness of a host as the network and scheduler see it. */
export interface HostState {
  readonly index: number;
  readonly ip: string;
  readonly name: string;
  /** false between a crash and the next spawn/restart: packets to it vanish. */
  up: boolean;
  /** Events for this host are held until this virtual time. */
  stalledUntilMs: number;
}

/** Something that owns sockets and timers: a process, or a host-level service. */
export interface Owner {
  readonly pid: number;
  readonly alive: boolean;
}

const USER_EVENT: EventType = {
  name: 'user',
  code: 1,
  // Host-bound callbacks are timeouts (dns/http/probe deadlines); unbound ones are never held.
  phase: 'timer',
  run(ev) {
    (ev.a as () => void)();
  },
  describe(ev) {
    return ev.b as string;
  },
};

/** Events held for one stalled host, split by event-loop phase, and its pending release. */
interface HeldEvents {
  timers: SimEvent[];
  io: SimEvent[];
  release: SimEvent | null;
}

const RELEASE: EventType = {
  name: 'stall-release',
  code: 11,
  run(ev) {
    (ev.a as Kernel).releaseHeld(ev.detail, ev);
  },
  describe(ev) {
    const k = ev.a as Kernel;
    return `stall-end ${k.hosts[ev.detail]!.ip}`;
  },
};

export class Kernel {
  nowMs = 0;
  private seq = 0;
  private readonly heap = new MinHeap<SimEvent>();
  /** Events that can be cancelled by numeric id (world.schedule and process timers). */
  private readonly byId = new Map<number, SimEvent>();
  readonly trace: Trace;
  readonly tracing: boolean;
  readonly rng: Rng;
  readonly hosts: HostState[] = [];
  executed = 0;
  /** Per host index: events held by a stall, waiting for its release. */
  private readonly held = new Map<number, HeldEvents>();

  constructor(
    readonly seed: string,
    readonly epochMs: number,
    traceEnabled: boolean,
  ) {
    this.rng = makeRng(seed);
    this.trace = new Trace(traceEnabled);
    this.tracing = traceEnabled;
  }

  /** Schedule an internal event. Times in the past run "now" (after the current event). */
  at(tMs: number, type: EventType, host: number, detail: number, a: unknown, b: unknown): SimEvent {
    const ev = new SimEvent(type, a, b);
    ev.t = tMs > this.nowMs ? tMs : this.nowMs;
    ev.seq = this.seq++;
    ev.host = host;
    ev.detail = detail;
    this.heap.push(ev);
    return ev;
  }

  /** Schedule a user callback that can be cancelled by the returned id. */
  scheduleCallback(tMs: number, label: string, fn: () => void, host = -1, detail = label.length): number {
    if (typeof tMs !== 'number' || Number.isNaN(tMs)) {
      throw new Error(`schedule('${label}'): time must be a number of virtual ms, got ${String(tMs)}`);
    }
    if (typeof fn !== 'function') throw new Error(`schedule('${label}'): callback is not a function`);
    return this.atCancellable(tMs, USER_EVENT, host, detail, fn, label);
  }

  /** Like at(), but returns a numeric id that cancel() accepts. */
  atCancellable(tMs: number, type: EventType, host: number, detail: number, a: unknown, b: unknown): number {
    const ev = this.at(tMs, type, host, detail, a, b);
    ev.id = ev.seq;
    this.byId.set(ev.id, ev);
    return ev.id;
  }

  cancel(id: number): void {
    const ev = this.byId.get(id);
    if (ev === undefined) return;
    ev.cancelled = true;
    this.byId.delete(id);
  }

  /** Run the next live event with time ≤ limitMs; false when there is none. */
  step(limitMs = Infinity): boolean {
    const heap = this.heap;
    for (;;) {
      const ev = heap.peek();
      if (ev === undefined) return false;
      if (ev.cancelled) {
        heap.pop();
        continue;
      }
      if (ev.t > limitMs) return false;
      heap.pop();
      if (ev.t > this.nowMs) this.nowMs = ev.t;
      if (ev.host >= 0) {
        const until = this.hosts[ev.host]!.stalledUntilMs;
        if (until > this.nowMs) {
          this.hold(ev, until);
          continue;
        }
      }
      if (ev.id >= 0) {
        this.byId.delete(ev.id);
        ev.id = -1;
      }
      this.executed++;
      if (this.tracing) this.trace.line(`${fmtTime(ev.t)} ${ev.type.describe(ev)}`);
      else this.trace.digest(ev.t, ev.type.code, ev.host, ev.detail);
      ev.type.run(ev);
      return true;
    }
  }

  /** Park `ev` (popped in (t, seq) order, so each list stays in time order) until the stall ends. */
  private hold(ev: SimEvent, untilMs: number): void {
    let h = this.held.get(ev.host);
    if (h === undefined) {
      h = { timers: [], io: [], release: null };
      this.held.set(ev.host, h);
    }
    (ev.type.phase === 'timer' ? h.timers : h.io).push(ev);
    if (h.release === null) h.release = this.at(untilMs, RELEASE, -1, ev.host, this, null);
  }

  /** The stall of host `index` is over (or the host crashed): re-queue its held events now,
   *  timers before deliveries. A stall extended meanwhile moves the release to the new end.
   *  `by` is the release event itself; a stale one (superseded by an early release) does nothing. */
  releaseHeld(index: number, by: SimEvent | null = null): void {
    const h = this.held.get(index);
    if (h === undefined || (by !== null && h.release !== by)) return;
    if (h.release !== null && by === null) h.release.cancelled = true;
    const until = this.hosts[index]!.stalledUntilMs;
    if (until > this.nowMs) {
      h.release = this.at(until, RELEASE, -1, index, this, null);
      return;
    }
    this.held.delete(index);
    for (const ev of h.timers) this.requeueNow(ev);
    for (const ev of h.io) this.requeueNow(ev);
  }

  private requeueNow(ev: SimEvent): void {
    if (ev.cancelled) return;
    ev.t = this.nowMs;
    ev.seq = this.seq++;
    this.heap.push(ev);
  }

  /** Events stalled hosts are holding (not in the queue until their stall ends). */
  heldCount(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.timers.length + h.io.length;
    return n;
  }

  runUntil(tMs: number): void {
    while (this.step(tMs)) {
      // keep going
    }
    if (tMs > this.nowMs) this.nowMs = tMs;
  }

  /** Queued plus held events. */
  pending(): number {
    return this.heap.size + this.heldCount();
  }

  /** A line in the trace (always hashed, in both modes). */
  note(text: string): void {
    this.trace.line(`${fmtTime(this.nowMs)} ${text}`);
  }
}

export function fmtTime(tMs: number): string {
  return Number.isInteger(tMs) ? String(tMs) : tMs.toFixed(3);
}
