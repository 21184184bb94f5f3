// test/codec/frame.test.ts — stream framing: arbitrary chunk boundaries, limits, sticky errors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from '../../core/codec/index.ts';
import { checkProperty, concat } from './prop.ts';

const FILE = 'test/codec/frame.test.ts';

/** Split `bytes` at the given cut points (any numbers; taken modulo, sorted, deduplicated). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p)); // includes empty chunks on purpose
    prev = p;
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

describe('framing', () => {
  it('writes a u32 big-endian length prefix', () => {
    expect(Buffer.from(encodeFrame(Uint8Array.from([0xaa, 0xbb]))).toString('hex')).toBe('00000002aabb');
    expect(Buffer.from(encodeFrame(new Uint8Array(0))).toString('hex')).toBe('00000000');
    expect(Buffer.from(encodeFrame(new Uint8Array(0x010203))).subarray(0, 4).toString('hex')).toBe('00010203');
  });

  it('recovers the frames in order across arbitrary chunk boundaries', () => {
    checkProperty(FILE, fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (payloads, cuts) => {
        const stream = concat(payloads.map((p) => encodeFrame(p)));
        const dec = new FrameDecoder();
        const got: Uint8Array[] = [];
        for (const chunk of split(stream, cuts)) got.push(...dec.push(chunk));
        if (dec.error) throw new Error(`unexpected error ${dec.error.code}`);
        if (dec.pendingBytes !== 0) throw new Error(`${dec.pendingBytes} bytes left over`);
        if (got.length !== payloads.length) throw new Error(`${got.length} frames != ${payloads.length}`);
        return got.every((g, i) => sameBytes(g, payloads[i]!));
      },
    ), 2000);
  });

  it('works one byte at a time, reporting pending bytes', () => {
    const payloads = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), new Uint8Array(2000).fill(9)];
    const stream = concat(payloads.map((p) => encodeFrame(p)));
    const dec = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...dec.push(stream.subarray(i, i + 1)));
      const done = got.reduce((n, g) => n + 4 + g.length, 0);
      expect(dec.pendingBytes).toBe(i + 1 - done);
    }
    expect(got.map((g) => g.length)).toEqual([3, 0, 2000]);
  });

  it('returns copies, unaffected by later reuse of the chunk', () => {
    const chunk = Buffer.from(concat([encodeFrame(Uint8Array.from([5, 6])), encodeFrame(Uint8Array.from([7]))]));
    const dec = new FrameDecoder();
    const frames = dec.push(chunk.subarray(0, 7));
    frames.push(...dec.push(chunk.subarray(7)));
    chunk.fill(0);
    expect(frames.map((f) => [...f])).toEqual([[5, 6], [7]]);
    expect(frames.every((f) => f.constructor === Uint8Array)).toBe(true);
  });

  it('accepts a frame of exactly the limit', () => {
    const dec = new FrameDecoder(10);
    expect(dec.push(encodeFrame(new Uint8Array(10), 10)).map((f) => f.length)).toEqual([10]);
    expect(dec.error).toBeNull();
  });
});

describe('oversized frames', () => {
  it('the default limit is 8 MiB', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(8 * 1024 * 1024);
    const dec = new FrameDecoder();
    const header = Uint8Array.from([0x00, 0x80, 0x00, 0x01]); // 8 MiB + 1
    expect(dec.push(header)).toEqual([]);
    expect(dec.error).toMatchObject({ code: 'too-large', offset: 0 });
  });

  it('keeps frames before the bad one, then stays in a sticky error state without throwing', () => {
    const good = encodeFrame(Uint8Array.from([1, 2, 3]));
    const bad = Uint8Array.from([0x00, 0x00, 0x01, 0x00, 1, 2]); // 256 > 100
    const dec = new FrameDecoder(100);
    const stream = concat([good, good, bad]);
    const got = [...dec.push(stream.subarray(0, 9)), ...dec.push(stream.subarray(9))];
    expect(got.length).toBe(2);
    expect(dec.error).toMatchObject({ code: 'too-large', offset: 14 });
    expect(dec.error!.message).toMatch(/256 bytes exceeds the 100-byte limit/);
    expect(dec.push(encodeFrame(Uint8Array.from([4])))).toEqual([]);
    expect(dec.pendingBytes).toBe(0);
  });

  it('reports the stream offset when the bad header is split across chunks after buffered data', () => {
    const dec = new FrameDecoder(16);
    const stream = concat([encodeFrame(new Uint8Array(5)), Uint8Array.from([0xff, 0xff, 0xff, 0xff])]);
    const got = [...dec.push(stream.subarray(0, 3)), ...dec.push(stream.subarray(3, 11)), ...dec.push(stream.subarray(11))];
    expect(got.length).toBe(1);
    expect(dec.error).toMatchObject({ code: 'too-large', offset: 9 });
  });

  it('encodeFrame refuses payloads over the limit', () => {
    expect(() => encodeFrame(new Uint8Array(11), 10)).toThrow(/11 bytes exceeds the 10-byte frame limit/);
  });

  it('a non-byte chunk is an error, not an exception', () => {
    const dec = new FrameDecoder();
    expect(dec.push('hello' as unknown as Uint8Array)).toEqual([]);
    expect(dec.error?.code).toBe('bad-tag');
  });

  it('random garbage never throws and never buffers past the limit', () => {
    checkProperty(FILE, fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
      const dec = new FrameDecoder(1000);
      for (const c of chunks) {
        for (const f of dec.push(c)) if (f.length > 1000) return false;
        if (dec.pendingBytes > 1000 + 4 + 64) return false;
      }
      return dec.error === null || dec.error.code === 'too-large';
    }), 5000);
  });
});
