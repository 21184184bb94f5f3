// cli/tui/sim-controller.ts — drives a simulated world for the UI: virtual time per real frame.
//
// Owns: the frame timer (a real interval timer; only cli/ may use them), pause / single-step /
// speed, mapping keys to the observer's faults, "jump to the next election", and caching the
// model between frames.
// Must never: reach into agents itself (SimObserver does the reading and the faults).
import type { SimObserver } from '../../sim/tui-model.ts';
import type { ClusterModel } from '../../sim/tui-model.ts';
import { nextSpeed, type Action, type TuiController } from './controller.ts';
import { formatSpeed, formatVirtual } from './format.ts';

export interface SimControllerOptions {
  /** Real ms between frames. */
  frameMs?: number;
  speed?: number;
  paused?: boolean;
  /** Longest virtual time "next election" searches before giving up. */
  electionSearchMs?: number;
  /** Replaces plain world stepping (the scenario player owns time while it runs). */
  advance?: (virtualMs: number) => void;
  /** After time moved outside advance() (single step, next election): let waiters notice. */
  afterManualTime?: () => void;
}

/** Most virtual time one frame may run, so a frame never freezes the screen for long. */
const MAX_FRAME_VIRTUAL_MS = 5_000;

export class SimController implements TuiController {
  readonly readOnly = false;
  paused: boolean;
  speed: number;
  private cached: ClusterModel | null = null;
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly frameMs: number;
  private busy = false;

  constructor(
    readonly observer: SimObserver,
    private readonly opts: SimControllerOptions = {},
  ) {
    this.frameMs = opts.frameMs ?? 100;
    this.speed = opts.speed ?? 1;
    this.paused = opts.paused ?? false;
  }

  model(): ClusterModel {
    if (!this.cached) this.cached = this.observer.model();
    return this.cached;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.cached = null;
    for (const l of [...this.listeners]) l();
  }

  /** One frame: realMs of wall time at the current speed (nothing when paused). */
  tick(realMs: number = this.frameMs): void {
    if (this.paused || this.busy) return;
    this.busy = true;
    try {
      this.run(Math.min(MAX_FRAME_VIRTUAL_MS, realMs * this.speed));
    } finally {
      this.busy = false;
    }
    this.changed();
  }

  private run(virtualMs: number): void {
    if (this.opts.advance) this.opts.advance(virtualMs);
    else this.observer.advance(virtualMs);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(this.frameMs), this.frameMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  act(action: Action, node: string | null): string | null {
    const msg = this.perform(action, node);
    this.changed();
    return msg;
  }

  private perform(action: Action, node: string | null): string | null {
    const o = this.observer;
    switch (action) {
      case 'togglePause':
        this.paused = !this.paused;
        return this.paused ? 'paused' : 'running';
      case 'step': {
        this.paused = true;
        const what = o.stepOne();
        this.opts.afterManualTime?.();
        return what === null ? 'nothing scheduled' : `step @${formatVirtual(o.world.nowMs())}: ${what}`;
      }
      case 'faster':
      case 'slower':
        this.speed = nextSpeed(this.speed, action === 'faster' ? 1 : -1);
        return `speed ${formatSpeed(this.speed)} (virtual per real time)`;
      case 'nextElection': {
        const from = o.world.nowMs();
        const max = this.opts.electionSearchMs ?? 120_000;
        const found = o.runToNextElection(max);
        this.opts.afterManualTime?.();
        this.paused = true;
        const took = formatVirtual(o.world.nowMs() - from);
        return found ? `next election won after ${took} (paused)` : `no election within ${formatVirtual(max)} (paused)`;
      }
      default:
        break;
    }
    if (node === null) return 'no node selected';
    switch (action) {
      case 'isolate':
        return o.isolate(node);
      case 'heal':
        return o.heal(node);
      case 'crash':
        return o.crash(node);
      case 'restart':
        return o.restart(node);
      case 'leave':
        return o.leave(node);
    }
    return null;
  }
}
