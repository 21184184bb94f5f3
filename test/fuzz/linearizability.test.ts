// The linearizability checker on known histories, and against a brute-force oracle.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLinearizable, kvModel, pruneUnobservedKvWrites, type KvInput, type KvOutput, type KvState, type Model, type Operation } from '../../sim/fuzz/linearizability.ts';

type Op = Operation<KvInput, KvOutput>;
const put = (c: number, key: string, value: string, call: number, ret?: number): Op => ({ clientId: c, input: { op: 'put', key, value }, call, ret, output: {} });
const get = (c: number, key: string, value: string | null, call: number, ret: number): Op => ({ clientId: c, input: { op: 'get', key }, call, ret, output: { value } });
const cas = (c: number, key: string, expect: string | null, value: string, ok: boolean, call: number, ret?: number): Op => ({
  clientId: c,
  input: { op: 'cas', key, expect, value },
  call,
  ret,
  output: { ok },
});
const acq = (c: number, key: string, session: string, ok: boolean, call: number, ret?: number): Op => ({
  clientId: c,
  input: { op: 'acquire', key, session, value: session },
  call,
  ret,
  output: { ok },
});
const rel = (c: number, key: string, session: string, ok: boolean, call: number, ret?: number): Op => ({ clientId: c, input: { op: 'release', key, session }, call, ret, output: { ok } });

describe('linearizability checker: known histories', () => {
  it('accepts a sequential history and concurrent reads seeing either side of a write', () => {
    const h = [put(0, 'x', 'a', 0, 10), put(0, 'x', 'b', 20, 30), get(1, 'x', 'a', 15, 25), get(2, 'x', 'b', 18, 40)];
    expect(checkLinearizable(kvModel, h).verdict).toBe('ok');
  });

  it('rejects a read of an overwritten value after the overwrite completed (stale read)', () => {
    const h = [put(0, 'x', 'a', 0, 10), put(0, 'x', 'b', 20, 30), get(1, 'x', 'a', 31, 35)];
    const r = checkLinearizable(kvModel, h);
    expect(r.verdict).toBe('illegal');
    expect(r.partition?.length).toBe(3);
    expect(r.blockedOn).toBeDefined();
  });

  it('rejects a new-then-old read inversion between two readers', () => {
    // Reader 1 sees b, then (strictly later) reader 2 sees a: not linearizable.
    const h = [put(0, 'x', 'a', 0, 5), put(0, 'x', 'b', 10, 100), get(1, 'x', 'b', 20, 30), get(2, 'x', 'a', 40, 50)];
    expect(checkLinearizable(kvModel, h).verdict).toBe('illegal');
  });

  it('rejects a read of a value that was never written', () => {
    expect(checkLinearizable(kvModel, [put(0, 'x', 'a', 0, 10), get(1, 'x', 'zzz', 0, 20)]).verdict).toBe('illegal');
  });

  it('treats an unknown-outcome write as maybe-applied, at any time after its call', () => {
    const lost = put(0, 'x', 'a', 0); // no response
    expect(checkLinearizable(kvModel, [lost, get(1, 'x', 'a', 50, 60), get(1, 'x', 'a', 70, 80)]).verdict).toBe('ok');
    expect(checkLinearizable(kvModel, [lost, get(1, 'x', null, 50, 60)]).verdict).toBe('ok');
    // …but once observed, it cannot un-happen.
    expect(checkLinearizable(kvModel, [lost, get(1, 'x', 'a', 50, 60), get(1, 'x', null, 70, 80)]).verdict).toBe('illegal');
    // …and it cannot take effect before it was called.
    expect(checkLinearizable(kvModel, [get(1, 'x', 'a', 0, 10), put(0, 'x', 'a', 20)]).verdict).toBe('illegal');
  });

  it('an acknowledged write must be visible to every later read (lost ack)', () => {
    const h = [put(0, 'x', 'a', 0, 10), put(0, 'x', 'b', 20, 30), get(1, 'x', 'a', 100, 110)];
    expect(checkLinearizable(kvModel, h).verdict).toBe('illegal');
  });

  it('checks cas results against the value it expected', () => {
    expect(checkLinearizable(kvModel, [put(0, 'x', 'a', 0, 10), cas(1, 'x', 'a', 'b', true, 20, 30), get(0, 'x', 'b', 40, 50)]).verdict).toBe('ok');
    expect(checkLinearizable(kvModel, [put(0, 'x', 'a', 0, 10), cas(1, 'x', 'z', 'b', true, 20, 30)]).verdict).toBe('illegal');
    expect(checkLinearizable(kvModel, [put(0, 'x', 'a', 0, 10), cas(1, 'x', 'a', 'b', false, 20, 30)]).verdict).toBe('illegal');
    // Two successful cas from the same expected value cannot both win.
    const twoWinners = [put(0, 'x', 'a', 0, 10), cas(1, 'x', 'a', 'b', true, 20, 40), cas(2, 'x', 'a', 'c', true, 20, 40)];
    expect(checkLinearizable(kvModel, twoWinners).verdict).toBe('illegal');
  });

  it('allows at most one lock holder; release and invalidation free the lock', () => {
    expect(checkLinearizable(kvModel, [acq(0, 'l', 's0', true, 0, 10), acq(1, 'l', 's1', true, 20, 30)]).verdict).toBe('illegal');
    expect(checkLinearizable(kvModel, [acq(0, 'l', 's0', true, 0, 10), rel(0, 'l', 's0', true, 15, 18), acq(1, 'l', 's1', true, 20, 30)]).verdict).toBe('ok');
    expect(checkLinearizable(kvModel, [acq(0, 'l', 's0', true, 0, 10), acq(0, 'l', 's0', true, 11, 12), rel(1, 'l', 's1', false, 20, 30)]).verdict).toBe('ok');
    const inv: Op = { clientId: 9, input: { op: 'invalidate', key: 'l', session: 's0' }, call: 12 };
    expect(checkLinearizable(kvModel, [acq(0, 'l', 's0', true, 0, 10), inv, acq(1, 'l', 's1', true, 20, 30)]).verdict).toBe('ok');
  });

  it('checks keys independently and reports the failing key', () => {
    const h = [put(0, 'x', 'a', 0, 10), get(1, 'x', 'a', 20, 30), put(0, 'y', 'b', 0, 10), get(1, 'y', null, 20, 30)];
    const r = checkLinearizable(kvModel, h);
    expect(r.verdict).toBe('illegal');
    expect(r.partition!.every((o) => o.input.key === 'y')).toBe(true);
    expect(kvModel.describe!(r.partition![1]!)).toContain('get(y)');
  });

  it('answers unknown when the step budget runs out, and handles large concurrent histories', () => {
    // 14 writers all concurrent with 14 sequential reads that force one order of the writes.
    const h: Op[] = [];
    for (let i = 0; i < 14; i++) h.push(put(i, 'x', `v${i}`, 0, 1000));
    for (let i = 0; i < 14; i++) h.push(get(100 + i, 'x', `v${(i * 5) % 14}`, 10 * i, 10 * i + 5));
    expect(checkLinearizable(kvModel, h, { maxSteps: 10 }).verdict).toBe('unknown');
    expect(checkLinearizable(kvModel, h).verdict).toBe('ok');
  });

  it('refuses a malformed history with a clear message', () => {
    expect(() => checkLinearizable(kvModel, [put(0, 'x', 'a', 10, 5)])).toThrow(/returns \(5\) before its call \(10\)/);
  });
});

// ----------------------------------------------------------------------------- oracle

/** Try every order that respects real time; unknown-outcome ops may be left out. */
function bruteForce<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): boolean {
  const n = ops.length;
  const used = new Array<boolean>(n).fill(false);
  const search = (state: S, placed: number): boolean => {
    // Done when every completed op is placed.
    if (ops.every((o, i) => used[i] || o.ret === undefined)) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      // i can go next only if no unplaced completed op returned strictly before i was called.
      const blocked = ops.some((o, j) => !used[j] && j !== i && o.ret !== undefined && o.ret < ops[i]!.call);
      if (blocked) continue;
      const r = model.step(state, ops[i]!.input, ops[i]!.ret === undefined ? undefined : ops[i]!.output);
      if (!r.ok) continue;
      used[i] = true;
      if (search(r.state, placed + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  return search(model.init(), 0);
}

/** Small random histories; with `unique`, every write stores its own value (as the fuzzer's do)
 *  and reads/cas name one of those values. */
const historyOf = (unique: boolean) =>
  fc
  .array(
    fc.record({
      client: fc.integer({ min: 0, max: 2 }),
      kind: fc.constantFrom('put', 'get', 'cas', 'acquire', 'release'),
      key: fc.constantFrom('x', 'y'),
      val: fc.integer({ min: 0, max: 2 }),
      expect: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      ok: fc.boolean(),
      gap: fc.integer({ min: 0, max: 3 }),
      dur: fc.integer({ min: 0, max: 6 }),
      pending: fc.integer({ min: 0, max: 9 }),
    }),
    { maxLength: 7 },
  )
  .map((raw) => {
    // Each client is sequential: an op starts after its previous one returned.
    const clock = [0, 0, 0];
    return raw.map((r, idx): Op => {
      const call = clock[r.client]! + r.gap;
      const ret = r.pending < (unique ? 4 : 1) ? undefined : call + r.dur;
      clock[r.client] = (ret ?? call + 100) + 1;
      const v = unique ? `w${idx}` : `v${r.val}`;
      const other = (k: number | null): string | null => (k === null ? null : unique ? `w${(k * 3 + idx) % Math.max(1, raw.length)}` : `v${k}`);
      const session = `s${r.client}`;
      const input: KvInput =
        r.kind === 'put'
          ? { op: 'put', key: r.key, value: v }
          : r.kind === 'get'
            ? { op: 'get', key: r.key }
            : r.kind === 'cas'
              ? { op: 'cas', key: r.key, expect: other(r.expect), value: v }
              : r.kind === 'acquire'
                ? { op: 'acquire', key: r.key, session, value: session }
                : { op: 'release', key: r.key, session };
      const output: KvOutput = r.kind === 'get' ? { value: other(r.expect) } : r.kind === 'put' ? {} : { ok: r.ok };
      return { clientId: r.client, input, call, ret, output };
    });
  });
const historyArb = historyOf(false);

/** All keys in one state, no partitioning: exercises the search on interleaved keys. */
const wholeModel: Model<Record<string, KvState>, KvInput, KvOutput> = {
  init: () => ({}),
  step(s, inp, out) {
    const r = kvModel.step(s[inp.key] ?? kvModel.init(), inp, out);
    return { ok: r.ok, state: r.ok ? { ...s, [inp.key]: r.state } : s };
  },
  hash: (s) =>
    Object.keys(s)
      .sort()
      .map((k) => `${k}:${kvModel.hash(s[k]!)}`)
      .join(';'),
};

describe('linearizability checker vs brute force', () => {
  it('agrees with exhaustive search on small random histories', () => {
    let illegal = 0;
    let legal = 0;
    fc.assert(
      fc.property(historyArb, (h) => {
        const expected = bruteForce(wholeModel, h);
        if (expected) legal++;
        else illegal++;
        const want = expected ? 'ok' : 'illegal';
        // Per-key search (P-compositionality) and whole-history search must both agree with the oracle.
        return checkLinearizable(kvModel, h).verdict === want && checkLinearizable(wholeModel, h).verdict === want;
      }),
      { numRuns: 1500 },
    );
    // The generator must produce both kinds, or the comparison proves little.
    expect(legal).toBeGreaterThan(100);
    expect(illegal).toBeGreaterThan(100);
  });

  it('pruning unobserved lost writes never changes the verdict (unique values)', () => {
    let pruned = 0;
    fc.assert(
      fc.property(historyOf(true), (h) => {
        const want = bruteForce(wholeModel, h) ? 'ok' : 'illegal';
        const p = pruneUnobservedKvWrites(h);
        pruned += h.length - p.length;
        return checkLinearizable(kvModel, p).verdict === want;
      }),
      { numRuns: 1500 },
    );
    expect(pruned).toBeGreaterThan(50);
  });
});
