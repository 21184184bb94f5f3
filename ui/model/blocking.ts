// ui/model/blocking.ts — the rules a blocking-query client follows (reference §1.11), as pure
// functions so they are unit-tested without a browser.
//
// Owns: which ?index= to send next, how long to pause between requests, error back-off,
// and recognising Consul's "No cluster leader" answer.
// Must never: touch the network, timers or React; ui/live.ts does.

/** Sent as ?wait=; short enough that a dead connection is noticed, long enough to be cheap. */
export const BLOCKING_WAIT = '60s';
/** Endpoints without X-Consul-Index (or an index < 1) are polled at this pace instead. */
export const POLL_WITHOUT_INDEX_MS = 1000;
/** /v1/agent/members has no index to block on; twice a second keeps a leave or failure within 1 s. */
export const MEMBERS_POLL_MS = 500;
/** A blocking read that came back at once with no new index is not allowed to spin. */
export const MIN_LOOP_GAP_MS = 100;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 3000;

/**
 * The index for the next request, from the previous one and the X-Consul-Index header.
 * 0 means "ask without ?index=" (answer at once). Clients must reset when the index goes
 * backwards (a server restored a snapshot or a new leader has a shorter log) and must not
 * block on an index below 1.
 */
export function nextIndex(previous: number, header: string | null): number {
  if (header === null || !/^\d+$/.test(header.trim())) return 0;
  const n = Number(header.trim());
  if (!Number.isSafeInteger(n) || n < 1) return 0;
  if (n < previous) return 0;
  return n;
}

/** Pause before the next request after a successful one. */
export function pauseAfterSuccessMs(previous: number, next: number, elapsedMs: number): number {
  if (next === 0) return POLL_WITHOUT_INDEX_MS;
  if (next === previous && elapsedMs < MIN_LOOP_GAP_MS) return MIN_LOOP_GAP_MS - elapsedMs;
  return 0;
}

/** Pause after the n-th consecutive failure (n ≥ 1): doubling from 250 ms, capped at 3 s. */
export function backoffMs(failures: number): number {
  if (failures < 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 16));
}

/** Consul answers reads that need a leader with HTTP 500 and this text while there is none. */
export function isNoLeader(status: number, body: string): boolean {
  return status === 500 && body.includes('No cluster leader');
}

/** Append blocking parameters to a path that may already carry a query string. */
export function withIndex(path: string, index: number, wait = BLOCKING_WAIT): string {
  if (index <= 0) return path;
  return `${path}${path.includes('?') ? '&' : '?'}index=${index}&wait=${wait}`;
}
