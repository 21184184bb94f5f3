// cli/tui/controller.ts — what the UI can ask of whatever feeds it (simulator or real cluster).
//
// Owns: the action vocabulary of the keys and the controller contract the ink app talks to.
// Must never: render anything.
import type { ClusterModel } from '../../sim/tui-model.ts';

export type Action =
  | 'togglePause'
  | 'step'
  | 'faster'
  | 'slower'
  | 'isolate'
  | 'heal'
  | 'crash'
  | 'restart'
  | 'leave'
  | 'nextElection';

export interface TuiController {
  /** Real clusters are watched, never touched: every action is refused. */
  readonly readOnly: boolean;
  readonly paused: boolean;
  /** Virtual ms per real ms. */
  readonly speed: number;
  /** The latest model (cheap: built once per change). */
  model(): ClusterModel;
  /** Carry out an action on the selected node (name); returns a line for the header. */
  act(action: Action, node: string | null): string | null;
  /** Called whenever the model changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Start the timers that move time / refresh (the CLI calls it; tests drive by hand). */
  start(): void;
  /** Stop every timer and request; idempotent. */
  stop(): void;
}

/** Speeds the +/- keys step through (virtual ms per real ms). */
export const SPEEDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100];

export function nextSpeed(current: number, dir: 1 | -1): number {
  let i = SPEEDS.findIndex((s) => s >= current - 1e-9);
  if (i < 0) i = SPEEDS.length - 1;
  if (SPEEDS[i]! > current + 1e-9 && dir > 0) return SPEEDS[i]!;
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, i + dir))]!;
}
