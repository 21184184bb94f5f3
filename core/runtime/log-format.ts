// core/runtime/log-format.ts — Consul 0.5-style log lines, for both worlds.
//
// Owns: the text of one log line: `    2015/07/03 09:18:25 [INFO] raft: text` (four leading
// spaces, UTC, `[LEVEL]`, `source: ` prefix when a source is given).
// Must never: read a clock (the caller passes epoch milliseconds) or use Date: civil dates
// are computed arithmetically so core stays free of ambient time.
import type { LogLevel } from '../machine.ts';

const DAY_MS = 86_400_000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Days since 1970-01-01 → proleptic Gregorian (y, m, d) (H. Hinnant's civil_from_days). */
function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return { y, m, d };
}

/** `YYYY/MM/DD HH:MM:SS` in UTC for epoch milliseconds (fractions of a second dropped). */
export function formatTimestamp(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new Error(`formatTimestamp: epochMs must be a finite number, got ${epochMs}`);
  const ms = Math.floor(epochMs);
  const days = Math.floor(ms / DAY_MS);
  const inDay = ms - days * DAY_MS;
  const { y, m, d } = civilFromDays(days);
  const secs = Math.floor(inDay / 1000);
  const hh = Math.floor(secs / 3600);
  const mm = Math.floor((secs % 3600) / 60);
  const ss = secs % 60;
  return `${String(y).padStart(4, '0')}/${pad2(m)}/${pad2(d)} ${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`;
}

/** One Consul 0.5 log line. An empty source omits the `source: ` prefix. */
export function formatLogLine(level: LogLevel, source: string, text: string, epochMs: number): string {
  const prefix = source ? `${source}: ` : '';
  return `    ${formatTimestamp(epochMs)} [${level}] ${prefix}${text}`;
}
