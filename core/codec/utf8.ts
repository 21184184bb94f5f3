// core/codec/utf8.ts — UTF-8 for the wire codec, with the strictness a network format needs.
//
// Owns: measuring, writing and reading UTF-8 so that every string that encodes also decodes
// to the same string (lone surrogates are refused instead of silently becoming U+FFFD, and a
// leading U+FEFF is kept instead of being eaten as a byte-order mark).
// Must never: throw on bytes from the network; invalid input is reported as null.

// Short strings are the common case (keys, tags, addresses); a hand loop beats the
// TextEncoder/TextDecoder call overhead there. Long strings go to the native codec.
const NATIVE_THRESHOLD = 24;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Byte length of `s` in UTF-8, or -(i + 1) when s[i] is a lone surrogate. */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -(i + 1);
      bytes += 2; // 2 UTF-16 units -> 4 bytes
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** Write well-formed `s` (checked by utf8Length first) whose UTF-8 size is `byteLength`
 *  into buf at pos; returns the position after it. */
export function writeUtf8(s: string, byteLength: number, buf: Uint8Array, pos: number): number {
  if (s.length > NATIVE_THRESHOLD) {
    encoder.encodeInto(s, buf.subarray(pos, pos + byteLength));
    return pos + byteLength;
  }
  if (byteLength === s.length) {
    for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + byteLength;
  }
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

// Keys and enum-like values ('alive', 'raft.append', addresses) repeat in almost every
// message; a small direct-mapped cache of short ASCII strings saves building them again.
const CACHE_MAX_BYTES = 24;
const CACHE_SLOTS = 4096;
const cacheBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(CACHE_SLOTS);
const cacheStrings: string[] = new Array<string>(CACHE_SLOTS).fill('');

function readShortAscii(buf: Uint8Array, start: number, end: number): string | null {
  let h = end - start;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return null;
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h ^ (h >>> 15)) & (CACHE_SLOTS - 1);
  const hit = cacheBytes[slot];
  if (hit !== undefined && hit.length === end - start) {
    let same = true;
    for (let i = 0; i < hit.length; i++) {
      if (hit[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cacheStrings[slot]!;
  }
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  cacheBytes[slot] = buf.slice(start, end);
  cacheStrings[slot] = s;
  return s;
}

/** Decode buf[start, end) as strict UTF-8; null if it is not valid UTF-8. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string | null {
  if (end - start <= CACHE_MAX_BYTES) {
    const s = readShortAscii(buf, start, end);
    if (s !== null) return s;
  } else if (end - start <= NATIVE_THRESHOLD) {
    let s = '';
    let i = start;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === end) return s;
  }
  try {
    return decoder.decode(buf.subarray(start, end));
  } catch {
    return null;
  }
}
