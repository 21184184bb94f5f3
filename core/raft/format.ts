// core/raft/format.ts — numbers printed the way Consul (Go) prints them in `consul info`.
//
// Owns: Go's time.Duration.String() for millisecond values (e.g. 8.475242ms, 1.5s, 2m3s).
// Must never: read a clock.

function trimFixed(v: number, digits: number): string {
  let s = v.toFixed(digits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** Go's Duration.String() for a duration given in (possibly fractional) milliseconds. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let out: string;
  if (a < 0.001) out = `${Math.round(a * 1e6)}ns`;
  else if (a < 1) out = `${trimFixed(a * 1000, 3)}µs`;
  else if (a < 1000) out = `${trimFixed(a, 6)}ms`;
  else {
    const totalS = a / 1000;
    const h = Math.floor(totalS / 3600);
    const m = Math.floor((totalS - h * 3600) / 60);
    const s = totalS - h * 3600 - m * 60;
    out = `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trimFixed(s, 9)}s`;
  }
  return neg ? `-${out}` : out;
}
