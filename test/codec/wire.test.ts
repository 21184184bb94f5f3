// test/codec/wire.test.ts — the wire message format: round trips, refusals, hostile input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_DEPTH,
  WIRE_MAGIC,
  WIRE_VERSION,
  decodeMessage,
  encodeMessage,
  wireCodec,
  type DecodeError,
  type DecodeErrorCode,
} from '../../core/codec/index.ts';
import type { WireCodec } from '../../core/runtime/host.ts';
import { checkProperty, concat, difference, hex, messageArb, valueArb } from './prop.ts';

const FILE = 'test/codec/wire.test.ts';
const CODES: readonly DecodeErrorCode[] = [
  'truncated', 'bad-magic', 'bad-version', 'bad-tag', 'too-large', 'trailing-bytes', 'bad-utf8', 'too-deep',
];

function decodeOk(bytes: Uint8Array): unknown {
  const r = decodeMessage(bytes);
  if (!r.ok) throw new Error(`decode failed: ${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  return r.msg;
}

function decodeErr(bytes: Uint8Array): DecodeError {
  const r = decodeMessage(bytes);
  if (r.ok) throw new Error(`expected a decode error, got ${JSON.stringify(r.msg)}`);
  return r.error;
}

/** A decode outcome must be a well-formed result, never an exception. */
function wellFormedOutcome(bytes: Uint8Array): boolean {
  const r = decodeMessage(bytes);
  if (r.ok) return true;
  const e = r.error;
  return CODES.includes(e.code) && typeof e.message === 'string' && e.message.length > 0 &&
    Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= bytes.length;
}

const header = (...body: number[]): Uint8Array => Uint8Array.from([WIRE_MAGIC, WIRE_VERSION, ...body]);

describe('round trip', () => {
  it('decode(encode(v)) equals v for arbitrary values, and re-encoding gives the same bytes', () => {
    checkProperty(FILE, fc.property(valueArb, (v) => {
      const bytes = encodeMessage(v);
      const back = decodeOk(bytes);
      const diff = difference(v, back);
      if (diff) throw new Error(diff);
      if (Buffer.compare(encodeMessage(back), bytes) !== 0) throw new Error('re-encoding changed the bytes');
    }), 1500);
  });

  it('round-trips tagged protocol messages', () => {
    checkProperty(FILE, fc.property(messageArb, (m) => {
      const diff = difference(m, decodeOk(encodeMessage(m)));
      if (diff) throw new Error(diff);
    }), 500);
  });

  it('keeps the edges of the number line exact', () => {
    const nums = [0, -0, 127, 128, -32, -33, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, -(2 ** 53) - 2, 1e300, 5e-324, -1.5];
    const back = decodeOk(encodeMessage(nums)) as number[];
    nums.forEach((n, i) => expect(Object.is(back[i], n), `index ${i}: ${n} -> ${back[i]}`).toBe(true));
  });

  it('keeps a leading U+FEFF and astral characters', () => {
    const s = '\uFEFFx\u{1F600}é\u0800\u07FF';
    expect(decodeOk(encodeMessage({ s }))).toEqual({ s });
    const long = '\uFEFF' + 'é😀'.repeat(200);
    expect(decodeOk(encodeMessage(long))).toBe(long);
  });

  it('decodes byte strings as copies of a Node Buffer input', () => {
    const input = Buffer.from(encodeMessage({ b: new Uint8Array([1, 2, 3]) }));
    const msg = decodeOk(input) as { b: Uint8Array };
    input.fill(0);
    expect(msg.b.constructor).toBe(Uint8Array);
    expect([...msg.b]).toEqual([1, 2, 3]);
  });

  it('omits undefined-valued properties and keeps key order', () => {
    const back = decodeOk(encodeMessage({ t: 'x', a: undefined, z: 1, b: 2 }));
    expect(Object.keys(back as object)).toEqual(['t', 'z', 'b']);
  });

  it('encodes shared (acyclic) references twice', () => {
    const shared = { n: 1 };
    expect(decodeOk(encodeMessage({ a: shared, b: [shared] }))).toEqual({ a: { n: 1 }, b: [{ n: 1 }] });
  });

  it('accepts nesting up to MAX_DEPTH containers and refuses one more', () => {
    let v: unknown = 1;
    for (let i = 0; i < MAX_DEPTH; i++) v = [v];
    expect(decodeOk(encodeMessage(v))).toEqual(v);
    expect(() => encodeMessage([v])).toThrow(/nesting deeper than 64/);
  });

  it('is more compact than JSON for a typical Raft message', () => {
    const msg = { t: 'raft.append', term: 3, leader: '10.10.126.101:8300', prevIndex: 41, prevTerm: 2, commit: 40,
      entries: [{ index: 42, term: 3, data: new Uint8Array(16) }] };
    const json = JSON.stringify({ ...msg, entries: [{ index: 42, term: 3, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }] });
    expect(encodeMessage(msg).length).toBeLessThan(json.length);
  });
});

describe('format (the documented layout)', () => {
  it('writes the header and the compact forms', () => {
    // {t:'a', n:5, neg:-1, big:300, s:null, b:true, l:[false]}
    const bytes = encodeMessage({ t: 'a', n: 5, neg: -1, big: 300, s: null, b: true, l: [false] });
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '4d01' + '57' + '0174' + '2161' + '016e' + '85' + '036e6567' + '60' + '03626967' + '03ac02' + '0173' + '00' +
        '0162' + '02' + '016c' + '4101',
    );
  });

  it('uses long forms past the fixed ranges', () => {
    const s = 'x'.repeat(32);
    expect(Buffer.from(encodeMessage(s)).subarray(2, 4).toString('hex')).toBe('0620');
    expect(Buffer.from(encodeMessage(new Array(16).fill(0))).subarray(2, 4).toString('hex')).toBe('0810');
    expect(Buffer.from(encodeMessage(-33)).toString('hex')).toBe('4d010420');
    expect(Buffer.from(encodeMessage(0.5)).toString('hex')).toBe('4d01053fe0000000000000');
    expect(Buffer.from(encodeMessage(-0)).toString('hex')).toBe('4d01058000000000000000');
    expect(Buffer.from(encodeMessage(new Uint8Array([9]))).toString('hex')).toBe('4d01070109');
  });

  it('wireCodec is the host codec', () => {
    const codec: WireCodec<unknown> = wireCodec;
    const r = codec.decode(codec.encode({ t: 'ping', seq: 7 }));
    expect(r).toEqual({ ok: true, msg: { t: 'ping', seq: 7 } });
  });
});

describe('encode refuses what it cannot carry, naming the path', () => {
  class Point { x = 1; }
  const cases: Array<[string, unknown, RegExp]> = [
    ['function', { t: 'x', f: () => 1 }, /cannot encode function at \$\.f/],
    ['undefined in array', { t: 'x', a: [1, undefined] }, /undefined.* at \$\.a\[1\]/],
    ['array hole', { a: [1, , 2] }, /undefined.* at \$\.a\[1\]/],
    ['top-level undefined', undefined, /undefined/],
    ['Map', { m: new Map() }, /Map instance.* at \$\.m/],
    ['Set', [new Set()], /Set instance.* at \$\[0\]/],
    ['Date', { d: new Date(0) }, /Date instance/],
    ['class instance', { p: new Point() }, /Point instance/],
    ['other typed array', { f: new Float64Array(2) }, /Float64Array instance/],
    ['BigInt', { n: 10n }, /bigint 10n.* at \$\.n/],
    ['symbol', { s: Symbol('x') }, /symbol at \$\.s/],
    ['NaN', { x: NaN }, /non-finite number NaN at \$\.x/],
    ['Infinity', [Infinity], /non-finite number Infinity/],
    ['-Infinity', { 'odd key': -Infinity }, /non-finite.* at \$\["odd key"\]/],
    ['lone surrogate', { s: 'a\uD800b' }, /lone UTF-16 surrogate at index 1 at \$\.s/],
    ['lone surrogate key', { ['\uDC00']: 1 }, /lone UTF-16 surrogate/],
  ];
  for (const [name, value, pattern] of cases) {
    it(name, () => expect(() => encodeMessage(value)).toThrow(pattern));
  }

  it('cycles, naming both ends', () => {
    const a: Record<string, unknown> = { t: 'x', list: [] };
    (a.list as unknown[]).push({ back: a });
    expect(() => encodeMessage(a)).toThrow(/cyclic reference: \$\.list\[0\]\.back is the same object as \$ /);
  });

  it('keeps working after a refusal (shared buffer is released)', () => {
    expect(() => encodeMessage({ f: () => 0 })).toThrow();
    expect(decodeOk(encodeMessage({ ok: 1 }))).toEqual({ ok: 1 });
  });

  it('handles very large messages and then small ones', () => {
    const big = { blob: new Uint8Array(3 * 1024 * 1024).fill(7), s: 'é'.repeat(100_000) };
    const back = decodeOk(encodeMessage(big)) as typeof big;
    expect(back.blob.length).toBe(big.blob.length);
    expect(back.s).toBe(big.s);
    expect(decodeOk(encodeMessage([1]))).toEqual([1]);
  });
});

describe('decode reports typed errors', () => {
  const cases: Array<[string, Uint8Array, DecodeErrorCode, number]> = [
    ['empty', new Uint8Array(0), 'truncated', 0],
    ['magic only', Uint8Array.from([WIRE_MAGIC]), 'truncated', 1],
    ['header only', header(), 'truncated', 2],
    ['wrong magic', Uint8Array.from([0x7b, 0x22]), 'bad-magic', 0],
    ['future version', Uint8Array.from([WIRE_MAGIC, 2, 0x00]), 'bad-version', 1],
    ['version 0', Uint8Array.from([WIRE_MAGIC, 0, 0x00]), 'bad-version', 1],
    ['trailing byte', header(0x00, 0x00), 'trailing-bytes', 3],
    ['reserved tag 0x0a', header(0x0a), 'bad-tag', 2],
    ['reserved tag 0x1f in array', header(0x41, 0x1f), 'bad-tag', 3],
    ['NaN float64', header(0x05, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), 'bad-tag', 2],
    ['Infinity float64', header(0x05, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0), 'bad-tag', 2],
    ['invalid UTF-8', header(0x21, 0xff), 'bad-utf8', 3],
    ['overlong UTF-8', header(0x22, 0xc0, 0x80), 'bad-utf8', 3],
    ['UTF-8 encoded surrogate', header(0x23, 0xed, 0xa0, 0x80), 'bad-utf8', 3],
    ['invalid UTF-8 key', header(0x51, 0x01, 0xfe, 0x00), 'bad-utf8', 4],
    ['uint over 2^53', header(0x03, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 'too-large', 3],
    ['negint below -2^53', header(0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 'too-large', 3],
    ['9-byte varint', header(0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 'too-large', 3],
    ['string longer than input', header(0x06, 0xff, 0xff, 0xff, 0x7f, 0x61), 'truncated', 3],
    ['array count larger than input', header(0x08, 0xff, 0xff, 0xff, 0xff, 0x0f), 'truncated', 3],
    ['map count larger than input', header(0x09, 0x03, 0x00, 0x00), 'truncated', 3],
    ['bytes longer than input', header(0x07, 0x05, 1, 2), 'truncated', 3],
  ];
  for (const [name, bytes, code, offset] of cases) {
    it(name, () => {
      const e = decodeErr(bytes);
      expect({ code: e.code, offset: e.offset }).toEqual({ code, offset });
      expect(e.message.length).toBeGreaterThan(5);
    });
  }

  it('accepts exactly 2^53 and -2^53 as varints', () => {
    expect(decodeOk(header(0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10))).toBe(2 ** 53);
    expect(decodeOk(header(0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f))).toBe(-(2 ** 53));
  });

  it('bounds nesting: depth MAX_DEPTH+1 is too-deep, and 1e6 levels do not blow the stack', () => {
    const ok = header(...new Array(MAX_DEPTH).fill(0x41), 0x00);
    expect(decodeMessage(ok).ok).toBe(true);
    const deep = header(...new Array(MAX_DEPTH + 1).fill(0x41), 0x00);
    expect(decodeErr(deep)).toMatchObject({ code: 'too-deep', offset: 2 + MAX_DEPTH });
    const huge = new Uint8Array(1_000_002).fill(0x51);
    huge[0] = WIRE_MAGIC;
    huge[1] = WIRE_VERSION;
    for (let i = 3; i < huge.length; i += 2) huge[i] = 0x00; // {"": {"": …}}
    expect(decodeErr(huge).code).toBe('too-deep');
    expect(decodeMessage(deep, { maxDepth: 3 }).ok).toBe(false);
  });

  it('enforces maxBytes before parsing', () => {
    const bytes = encodeMessage({ blob: new Uint8Array(100) });
    expect(decodeMessage(bytes, { maxBytes: 50 })).toMatchObject({ ok: false, error: { code: 'too-large', offset: 0 } });
    expect(decodeMessage(bytes, { maxBytes: bytes.length }).ok).toBe(true);
  });

  it('a hostile __proto__ key does not change the prototype', () => {
    // {"__proto__": {"polluted": true}}
    const key = [...Buffer.from('__proto__')];
    const bytes = header(0x51, key.length, ...key, 0x51, 8, ...Buffer.from('polluted'), 0x02);
    const msg = decodeOk(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(msg)).toBe(Object.prototype);
    expect(Object.keys(msg)).toEqual(['__proto__']);
    expect((msg as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('never throws on non-Uint8Array input', () => {
    expect(decodeMessage('nope' as unknown as Uint8Array).ok).toBe(false);
    expect(decodeMessage(null as unknown as Uint8Array).ok).toBe(false);
  });
});

describe('hostile bytes', () => {
  it('every strict prefix of a valid encoding is truncated', () => {
    checkProperty(FILE, fc.property(valueArb, (v) => {
      const bytes = encodeMessage(v);
      // Every cut for small encodings; for big ones every cut near both ends plus an even
      // spread in between (all cuts of a 15 KB value would cost O(n^2) for little gain).
      const cuts = new Set<number>();
      const step = Math.max(1, Math.floor(bytes.length / 400));
      for (let n = 0; n < bytes.length; n += step) cuts.add(n);
      for (let n = 0; n < Math.min(200, bytes.length); n++) cuts.add(n).add(bytes.length - 1 - n);
      for (const n of cuts) {
        const r = decodeMessage(bytes.subarray(0, n));
        if (r.ok || r.error.code !== 'truncated') {
          throw new Error(`prefix of ${n}/${bytes.length} bytes gave ${r.ok ? 'ok' : r.error.code}`);
        }
      }
    }), 300);
  });

  it('100k random byte strings never throw (half with a valid header)', () => {
    checkProperty(FILE, fc.property(fc.boolean(), fc.uint8Array({ maxLength: 64 }), (withHeader, body) => {
      const bytes = withHeader ? concat([header(), body]) : body;
      return wellFormedOutcome(bytes);
    }), 100_000);
  });

  it('mutated valid encodings never throw, and whatever decodes re-encodes to itself', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    checkProperty(FILE, fc.property(valueArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (v, muts) => {
      let bytes = Array.from(encodeMessage(v));
      for (const m of muts) {
        const at = m.at % (bytes.length + (m.op === 'insert' ? 1 : 0));
        if (m.op === 'set') bytes[at] = m.byte;
        else if (m.op === 'flip') bytes[at] = bytes[at]! ^ (1 << m.byte);
        else if (m.op === 'insert') bytes.splice(at, 0, m.byte);
        else if (bytes.length > 0) bytes.splice(at, 1);
      }
      const input = Uint8Array.from(bytes);
      if (!wellFormedOutcome(input)) return false;
      const r = decodeMessage(input);
      if (r.ok) {
        const again = decodeOk(encodeMessage(r.msg));
        const diff = difference(r.msg, again);
        if (diff) throw new Error(diff);
      }
      return true;
    }), 6_000);
  });
});
