// test/catalog/snapshot-cache.test.ts — snapshots reuse each KV entry's encoded bytes between
// calls (core/catalog/snapshot.ts); the bytes must be exactly those of a fresh encoding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../core/catalog/commands.ts';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { historyArb } from './gen.ts';
import { bytes } from './harness.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('snapshot bytes with the per-entry cache', () => {
  it('are what JSON.stringify gives, and what a catalog without a warm cache gives, across overwrites', () => {
    fc.assert(
      fc.property(historyArb, historyArb, (first: Command[], second: Command[]) => {
        const fsm = new CatalogFSM();
        let i = 0;
        for (const c of first) fsm.apply(++i, c);
        const before = fsm.snapshot(); // warms the cache
        expect(dec(before)).toBe(JSON.stringify(JSON.parse(dec(before))));
        for (const c of second) fsm.apply(++i, c);
        const after = fsm.snapshot();
        expect(dec(after)).toBe(JSON.stringify(JSON.parse(dec(after))));
        expect(dec(CatalogFSM.restore(after).snapshot())).toBe(dec(after));
      }),
      { numRuns: 150 },
    );
  });

  it('an overwritten key shows its new value, not the cached one', () => {
    const fsm = new CatalogFSM();
    fsm.apply(1, { op: 'kvSet', key: 'k', value: bytes('old'), nowMs: 0 });
    fsm.snapshot();
    fsm.apply(2, { op: 'kvSet', key: 'k', value: bytes('new'), nowMs: 0 });
    const doc = JSON.parse(dec(fsm.snapshot())) as { kvs: { Key: string; Value: string; ModifyIndex: number }[] };
    expect(doc.kvs).toEqual([expect.objectContaining({ Key: 'k', Value: Buffer.from('new').toString('base64'), ModifyIndex: 2 })]);
  });
});
