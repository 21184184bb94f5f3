// sim/fuzz/violation.ts — what every fuzz checker reports, for the Raft and the cluster fuzzer.
//
// Owns: the Violation record (which invariant, what exactly, when in virtual time) and how a
// thrown error becomes one (an assertion inside a machine, RaftInvariantError, or a crash of the
// simulation), so both fuzzers name failures the same way and campaigns can count them by kind.
// Must never: decide what is a violation (the checkers do).

export interface Violation {
  /** Short, stable name of the invariant ("election safety", "liveness", …): the kind campaigns count. */
  invariant: string;
  detail: string;
  /** Virtual ms since the world began. */
  atMs: number;
}

/** A thrown error as a violation: a machine's own assertion keeps its invariant's name. */
export function violationFromError(err: unknown, atMs: number): Violation {
  const e = err instanceof Error ? err : new Error(String(err));
  const inv = (e as { invariant?: unknown }).invariant;
  const where = (e.stack ?? '').split('\n').slice(1, 6).join('\n');
  if (e.name === 'RaftInvariantError' && typeof inv === 'string') return { invariant: `assertion: ${inv}`, detail: `${e.message}\n${where}`, atMs };
  return { invariant: 'no exception', detail: `${e.message}\n${where}`, atMs };
}
