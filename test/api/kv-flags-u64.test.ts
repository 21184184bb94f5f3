// KV flags are Go uint64s: Consul's lock flag 0x2ddccbc058a50c18 (3304740253564472344, past
// 2^53) must survive PUT ?flags=, the JSON answer, the Raft log's wire codec, snapshots and
// the CLI byte for byte.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import { toU64 } from '../../core/catalog/u64.ts';
import { decodeMessage, encodeMessage } from '../../core/codec/wire.ts';
import { parseJson64, stringifyJson64 } from '../../core/http/json64.ts';
import { detailed } from '../../cli/commands/kv.ts';
import { FakeBackend, bodyText, request } from '../http/fake-backend.ts';

const LOCK_FLAG = '3304740253564472344';
const MAX = '18446744073709551615';

describe('uint64 KV flags', () => {
  it('toU64 takes 0 … 2^64-1 and nothing else', () => {
    expect(toU64(LOCK_FLAG)).toBe(LOCK_FLAG);
    expect(toU64(MAX)).toBe(MAX);
    expect(toU64('18446744073709551616')).toBeNull();
    expect(toU64('-1')).toBeNull();
    expect(toU64('01')).toBeNull();
    expect(toU64(1.5)).toBeNull();
    expect(toU64(2 ** 60)).toBeNull(); // an unsafe JS number has already lost digits
    expect(toU64(7)).toBe('7');
  });

  it('PUT ?flags= then GET answers the exact digits; the raw JSON has a bare number', async () => {
    const b = new FakeBackend();
    const put = await b.handle(request('PUT', `/v1/kv/lock/.lock?flags=${LOCK_FLAG}`, 'x'));
    expect(bodyText(put)).toBe('true');
    const get = await b.handle(request('GET', '/v1/kv/lock/.lock'));
    expect(bodyText(get)).toContain(`"Flags":${LOCK_FLAG},`);
    const pretty = await b.handle(request('GET', '/v1/kv/lock?recurse&pretty'));
    expect(bodyText(pretty)).toContain(`"Flags": ${LOCK_FLAG},`);
    const bad = await b.handle(request('PUT', '/v1/kv/k?flags=18446744073709551616', 'x'));
    expect(bad.status).toBe(400);
    expect(bodyText(bad)).toContain('unsigned 64-bit');
  });

  it('survives the wire codec (Raft log) and a snapshot', () => {
    const cmd = { op: 'kvSet', nowMs: 1, key: 'k', value: new Uint8Array([1]), flags: MAX };
    const back = decodeMessage(encodeMessage(cmd));
    if (!back.ok) throw new Error(back.error.message);
    expect((back.msg as typeof cmd).flags).toBe(MAX);
    const fsm = new CatalogFSM();
    expect(fsm.apply(1, back.msg as never)).toMatchObject({ ok: true });
    const restored = CatalogFSM.restore(fsm.snapshot());
    expect(restored.kvGet('k')!.Flags).toBe(MAX);
  });

  it('the CLI prints the exact flags in -detailed', () => {
    const [e] = parseJson64(`[{"CreateIndex":1,"ModifyIndex":1,"LockIndex":0,"Key":"k","Flags":${LOCK_FLAG},"Value":null}]`) as never[];
    expect(detailed(e!, false)).toContain(`Flags            ${LOCK_FLAG}`);
  });

  it('json64 agrees with JSON.parse/stringify on every JSON value without big integers', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        // Integers past ±(2^53-1) are exactly what json64 keeps as bigint instead.
        fc.pre(!JSON.stringify(JSON.parse(text), (_k, x) => (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x) ? 'UNSAFE' : x)).includes('"UNSAFE"'));
        expect(parseJson64(text)).toEqual(JSON.parse(text));
        expect(stringifyJson64(JSON.parse(text))).toBe(text);
        expect(stringifyJson64(JSON.parse(text), 4)).toBe(JSON.stringify(JSON.parse(text), null, 4));
      }),
      { numRuns: 300 },
    );
    expect(parseJson64(`{"a":[${MAX},-1,1e3]}`)).toEqual({ a: [BigInt(MAX), -1, 1000] });
    expect(() => parseJson64('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseJson64('[1] x')).toThrow(/offset/);
  });
});
