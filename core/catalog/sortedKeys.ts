// core/catalog/sortedKeys.ts — a set of strings kept in byte (code-unit) order.
//
// Owns: ordered key bookkeeping for the KV table and its tombstones, so prefix reads
// (`?recurse`, `?keys`) and per-prefix indexes cost a binary search plus the matches,
// not a scan and sort of every key.
// Must never: use locale-aware comparison (order must be identical on every replica).

export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class SortedKeys {
  private readonly keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** First position whose key is ≥ key. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  delete(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  /** Keys starting with prefix, in order. Keys sharing a prefix are contiguous when sorted. */
  withPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (let i = this.lowerBound(prefix); i < this.keys.length && this.keys[i]!.startsWith(prefix); i++) out.push(this.keys[i]!);
    return out;
  }

  clone(): SortedKeys {
    const c = new SortedKeys();
    c.keys.push(...this.keys);
    return c;
  }

  all(): readonly string[] {
    return this.keys;
  }
}
