// core/http/params.ts — reading Consul's query parameters.
//
// Owns: presence flags (`?recurse`, `=1`, `=true`, `=`), consistency modes, blocking
// parameters (`index`, `wait` with Consul's default, cap and jitter), `?dc=`, and Go's
// query encoding for the `Conflicting flags: …` message.
// Must never: draw randomness except from the Rng handed in.
import type { Consistency } from '../rpc/types.ts';
import type { Rng } from '../rng.ts';
import { parseGoDuration } from './duration.ts';

export const DEFAULT_WAIT_MS = 5 * 60_000;
export const MAX_WAIT_MS = 10 * 60_000;
/** Consul adds up to wait/16 so many blocked clients do not all wake at the same instant. */
const JITTER_FRACTION = 16;

/** A 400 the handler turns into a plain-text response. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class Params {
  constructor(readonly pairs: Array<[string, string]>) {}

  has(name: string): boolean {
    return this.pairs.some(([k]) => k === name);
  }

  /** Every value of a repeatable parameter (`?tag=a&tag=b`), in order. */
  all(name: string): string[] {
    return this.pairs.filter(([k]) => k === name).map(([, v]) => v);
  }

  get(name: string): string | undefined {
    for (const [k, v] of this.pairs) if (k === name) return v;
    return undefined;
  }

  /** Present ⇒ true, unless the value explicitly says false (clients send =1, =true, =, or nothing). */
  flag(name: string): boolean {
    const v = this.get(name);
    if (v === undefined) return false;
    const l = v.toLowerCase();
    return l !== 'false' && l !== '0';
  }

  /** Boolean parameter with a required value (`enable=true`), Go's strconv.ParseBool spellings. */
  requiredBool(name: string): boolean {
    const v = this.get(name);
    if (v === undefined || v === '') throw new BadRequest(`Missing value for ${name}`);
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
    throw new BadRequest(`Invalid value for ${name}: ${JSON.stringify(v)} (use true or false)`);
  }

  /** Unsigned integer parameter, undefined when absent. */
  uint(name: string, what: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new BadRequest(`Invalid ${what}: ${JSON.stringify(v)} (expected a non-negative integer)`);
    return Number(v);
  }

  consistency(): Consistency {
    const stale = this.has('stale');
    const consistent = this.has('consistent');
    if (stale && consistent) throw new BadRequest('Cannot specify ?stale with ?consistent, conflicting semantics.');
    return stale ? 'stale' : consistent ? 'consistent' : 'default';
  }

  /** `?index=&wait=` → the ReadRequest's blocking fields. No index (or 0) ⇒ answer now. */
  blocking(rng: Rng): { minIndex: number; maxWaitMs: number } {
    const idxText = this.get('index');
    let minIndex = 0;
    if (idxText !== undefined && idxText !== '') {
      if (!/^\d+$/.test(idxText) || !Number.isSafeInteger(Number(idxText))) throw new BadRequest('Invalid index');
      minIndex = Number(idxText);
    }
    if (minIndex === 0) {
      // Still refuse a malformed ?wait= even when it will not be used.
      const w = this.get('wait');
      if (w !== undefined && w !== '' && parseGoDuration(w) === null) throw new BadRequest('Invalid wait time');
      return { minIndex: 0, maxWaitMs: 0 };
    }
    return { minIndex, maxWaitMs: this.waitMs(rng) };
  }

  /** `?wait=`: default 5 min, capped at 10 min, plus up to wait/16 of jitter. */
  waitMs(rng: Rng): number {
    const waitText = this.get('wait');
    let waitMs = DEFAULT_WAIT_MS;
    if (waitText !== undefined && waitText !== '') {
      const ms = parseGoDuration(waitText);
      if (ms === null) throw new BadRequest('Invalid wait time');
      waitMs = ms;
    }
    if (waitMs <= 0) waitMs = DEFAULT_WAIT_MS;
    if (waitMs > MAX_WAIT_MS) waitMs = MAX_WAIT_MS;
    return waitMs + Math.floor(rng.next() * (waitMs / JITTER_FRACTION));
  }

  /** `?dc=` must be empty or the local datacenter (Muster has no WAN forwarding). */
  checkDatacenter(local: string): void {
    const dc = this.get('dc');
    if (dc !== undefined && dc !== '' && dc !== local) throw new BadRequest('No path to datacenter', 500);
  }

  /** Go's url.Values.Encode(): keys sorted, QueryEscape'd, as Consul echoes in `Conflicting flags: …`. */
  goEncode(): string {
    const sorted = this.pairs
      .map((p, i) => ({ p, i }))
      .sort((a, b) => (a.p[0] < b.p[0] ? -1 : a.p[0] > b.p[0] ? 1 : a.i - b.i))
      .map(({ p }) => p);
    return sorted.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join('&');
  }
}

function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
