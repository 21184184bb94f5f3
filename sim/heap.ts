// sim/heap.ts — the scheduler's priority queue: a binary min-heap ordered by (t, seq).
//
// Owns: ordering of pending events. Ties in time are broken by the sequence number the
// scheduler assigned at insertion, so two events at the same virtual time always run in
// the order they were scheduled — on every machine, for every seed.
// Must never: allocate per operation beyond the backing array's growth, or look at what an
// event means.

export interface HeapItem {
  t: number;
  seq: number;
}

function before(a: HeapItem, b: HeapItem): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

export class MinHeap<T extends HeapItem> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!before(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const n = a.length;
    if (n === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (n > 1) {
      const size = n - 1;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        let c = l;
        let child = a[l]!;
        if (r < size) {
          const rc = a[r]!;
          if (before(rc, child)) {
            c = r;
            child = rc;
          }
        }
        if (!before(child, last)) break;
        a[i] = child;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items = [];
  }
}
