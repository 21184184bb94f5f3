// core/http/duration.ts — Go duration strings, read and written the way Go's time package does.
//
// Owns: parsing "10s", "300000ms", "1m30s", "1.5h" into milliseconds, and formatting
// milliseconds back as Go's Duration.String() ("15s", "1m30s", "10m0s", "300ms").
// Must never: accept a unitless number other than "0" (Go refuses it, and a silent unit
// guess is how a 10 s check becomes a 10 ms one).

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds for a Go duration string, or null when it is not one. Negative durations are refused. */
export function parseGoDuration(text: string): number | null {
  const s = text.trim();
  if (s === '0') return 0;
  if (s.length === 0) return null;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = re.lastIndex;
  }
  return Number.isFinite(total) ? total : null;
}

/** Go's time.Duration.String() for a whole-or-fractional number of milliseconds. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out: string;
  if (rest < 1000) {
    if (rest >= 1) out = `${trim(rest)}ms`;
    else if (rest >= 1e-3) out = `${trim(rest * 1e3)}µs`;
    else out = `${trim(rest * 1e6)}ns`;
  } else {
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const sec = `${trim(rest / 1000)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  // Go prints the shortest exact decimal; rounding to 9 places avoids float noise (0.1+0.2).
  return String(Number(n.toFixed(9)));
}
