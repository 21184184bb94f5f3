// cli/tui/format.ts — small text helpers of the terminal UI (durations, times, colours, fitting).
//
// Owns: how numbers and states read on screen and which colour each state gets.
// Must never: know where the model came from (simulator or real cluster).
import type { EventKind, GossipStatus, NodeRole } from '../../sim/tui-model.ts';

export const ROLE_COLOR: Record<NodeRole, string> = {
  Leader: 'green',
  Follower: 'cyan',
  Candidate: 'yellow',
  Client: 'white',
  Down: 'red',
  Unknown: 'magenta',
};

export const GOSSIP_COLOR: Record<GossipStatus, string> = {
  alive: 'green',
  suspect: 'yellow',
  leaving: 'yellow',
  left: 'gray',
  failed: 'red',
  down: 'red',
  unknown: 'gray',
};

export const EVENT_COLOR: Record<EventKind, string> = {
  election: 'yellow',
  won: 'green',
  leader: 'green',
  lost: 'red',
  'vote-rejected': 'magenta',
  'no-peers': 'gray',
  bootstrap: 'cyan',
  'peer-added': 'cyan',
  'peer-removed': 'magenta',
  'step-down': 'red',
  join: 'blue',
  leave: 'yellow',
  failed: 'red',
  suspect: 'yellow',
  reap: 'gray',
  shutdown: 'gray',
  fault: 'redBright',
  info: 'white',
};

/** Go duration text ('11.912ms', '1m2.5s') → a short form ('12ms', '1m2s'); other text unchanged. */
export function shortDuration(text: string | null): string {
  if (text === null) return '-';
  const m = /^([\d.]+)(ns|µs|us|ms|s)$/.exec(text);
  if (!m) return text.replace(/(\d+)\.\d+s$/, '$1s');
  const v = Number(m[1]);
  switch (m[2]) {
    case 'ns':
    case 'µs':
    case 'us':
      return '<1ms';
    case 'ms':
      return `${Math.round(v)}ms`;
    default:
      return v < 10 ? `${v.toFixed(1)}s` : `${Math.round(v)}s`;
  }
}

/** Virtual ms → `75.303s` (or `1h02m03.1s` for long runs). */
export function formatVirtual(ms: number): string {
  if (ms < 3_600_000) return `${(ms / 1000).toFixed(3)}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h}h${String(m).padStart(2, '0')}m${s.toFixed(1).padStart(4, '0')}s`;
}

/** Speed factor → `×1`, `×0.25`, `×20`. */
export function formatSpeed(f: number): string {
  return `×${Number(f.toPrecision(3))}`;
}

/** Cut or pad to exactly n columns (n ≤ 0 ⇒ ''). */
export function fit(s: string, n: number): string {
  if (n <= 0) return '';
  if (s.length > n) return n > 1 ? `${s.slice(0, n - 1)}…` : s.slice(0, n);
  return s.padEnd(n);
}

/** Cut to at most n columns. */
export function clip(s: string, n: number): string {
  if (n <= 0) return '';
  return s.length > n ? (n > 1 ? `${s.slice(0, n - 1)}…` : s.slice(0, n)) : s;
}
