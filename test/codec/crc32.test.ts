// test/codec/crc32.test.ts — CRC-32 against published vectors and against zlib.
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Update } from '../../core/codec/index.ts';
import { checkProperty } from './prop.ts';

const FILE = 'test/codec/crc32.test.ts';
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the published check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it('agrees with zlib on arbitrary bytes, is unsigned, and honours start/end', () => {
    checkProperty(FILE, fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), fc.nat(), (bytes, a, b) => {
      const c = crc32(bytes);
      if (c !== zlibCrc32(bytes) || c < 0 || c > 0xffffffff) return false;
      const start = a % (bytes.length + 1);
      const end = start + (b % (bytes.length - start + 1));
      return crc32(bytes, start, end) === zlibCrc32(bytes.subarray(start, end));
    }), 2000);
  });

  it('can be computed incrementally', () => {
    checkProperty(FILE, fc.property(fc.uint8Array({ maxLength: 256 }), fc.uint8Array({ maxLength: 256 }), (a, b) => {
      const joined = new Uint8Array(a.length + b.length);
      joined.set(a);
      joined.set(b, a.length);
      return crc32Update(crc32(a), b) === crc32(joined);
    }), 1000);
  });

  it('detects every single-bit error', () => {
    checkProperty(FILE, fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), (bytes, bit) => {
      const flipped = bytes.slice();
      const i = bit % (bytes.length * 8);
      flipped[i >> 3] = flipped[i >> 3]! ^ (1 << (i & 7));
      return crc32(flipped) !== crc32(bytes);
    }), 1000);
  });
});
