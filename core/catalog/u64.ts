// core/catalog/u64.ts — Go's uint64 as the catalog carries it: a canonical decimal string.
//
// Owns: recognising and normalising KV flags (Consul's `Flags uint64`), which exceed
// JavaScript's safe integers (Consul's lock flag is 0x2ddccbc058a50c18 = 3304740253564472344).
// Must never: go through a JS number for a value that may exceed 2^53 (precision is lost
// silently), or accept a value outside 0 … 2^64-1.
//
// Why a string: commands and records cross the wire codec and the Raft log, which carry no
// BigInt, and snapshots are JSON. A decimal string survives all three unchanged.

export const U64_MAX = (1n << 64n) - 1n;

/** The canonical decimal text of a uint64 given as a safe integer, a bigint or decimal text;
 *  null when it is not one (negative, fractional, too large, leading zeros, not a number). */
export function toU64(v: unknown): string | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
  if (typeof v === 'bigint') return v >= 0n && v <= U64_MAX ? v.toString() : null;
  if (typeof v !== 'string' || !/^(0|[1-9]\d{0,19})$/.test(v)) return null;
  return BigInt(v) <= U64_MAX ? v : null;
}

/** For JSON output: a safe integer as a number, anything larger as a bigint (json64 prints
 *  both as bare digits, as Go does). */
export function u64Json(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}
