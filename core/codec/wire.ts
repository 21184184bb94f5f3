// core/codec/wire.ts — the one binary format for every message that crosses the network.
//
// Owns: encodeMessage / decodeMessage for plain message values (Raft, gossip, RPC …).
// Must never: throw from decodeMessage (network bytes are hostile), allocate or recurse
// without a bound, or use JSON (the simulator round-trips every message through here).
//
// Format (version 1). A message is a 2-byte header followed by exactly one value:
//
//   header   0x4D ('M', magic)  0x01 (version)
//   value    one tag byte, then a body:
//     0x00 null   0x01 false   0x02 true
//     0x03 uint     varint n                      integer 128 … 2^53
//     0x04 negint   varint n, value -(n + 1)      integer -2^53 … -33
//     0x05 float64  8 bytes big-endian            finite non-integers, -0, |x| > 2^53
//     0x06 string   varint byteLength, UTF-8
//     0x07 bytes    varint byteLength, raw        (Uint8Array)
//     0x08 array    varint count, count values
//     0x09 map      varint count, count × (varint byteLength, UTF-8 key, value)
//     0x20–0x3F fixstr    byteLength 0–31 in the tag, UTF-8
//     0x40–0x4F fixarray  count 0–15 in the tag
//     0x50–0x5F fixmap    count 0–15 in the tag
//     0x60–0x7F negative fixint  -1 … -32   (value = 0x5F - tag)
//     0x80–0xFF fixint  0 … 127             (value = tag - 0x80)
//     0x0A–0x1F  reserved (bad-tag)
//   varint   unsigned LEB128, at most 8 bytes, value ≤ 2^53.
//
// Decisions (what encodeMessage refuses, with an Error naming the path, e.g. `$.entries[2]`):
//   * NaN and ±Infinity: refused (a non-finite number in a protocol message is a bug; JSON
//     could not carry it either). The decoder rejects non-finite float64 too.
//   * undefined: refused inside arrays and at top level; an object property whose value is
//     undefined is omitted (as JSON does), so optional fields can be left undefined.
//   * functions, symbols, BigInt, Map, Set, Date, class instances, typed arrays other than
//     Uint8Array (Buffer is a Uint8Array and decodes as a plain Uint8Array): refused.
//   * cycles and nesting deeper than MAX_DEPTH containers: refused, so anything encoded
//     also decodes. Shared (acyclic) references are fine; they decode as copies.
//   * strings with lone surrogates: refused (UTF-8 cannot carry them faithfully).
//   * -0 is kept (sent as float64). Object key order is kept.
// Decoded Uint8Arrays are copies, never views into the input buffer.
import type { WireCodec } from '../runtime/host.ts';
import { decodeError, type DecodeError, type DecodeErrorCode, type DecodeResult } from './errors.ts';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.ts';

export const WIRE_MAGIC = 0x4d;
export const WIRE_VERSION = 1;
/** Deepest container nesting a message may have (encode and decode agree on it). */
export const MAX_DEPTH = 64;
/** Default bound on one encoded message handed to decodeMessage. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const MAX_INT = 2 ** 53;

const T_NULL = 0x00;
const T_FALSE = 0x01;
const T_TRUE = 0x02;
const T_UINT = 0x03;
const T_NEGINT = 0x04;
const T_FLOAT64 = 0x05;
const T_STRING = 0x06;
const T_BYTES = 0x07;
const T_ARRAY = 0x08;
const T_MAP = 0x09;
const T_FIXSTR = 0x20;
const T_FIXARRAY = 0x40;
const T_FIXMAP = 0x50;
const T_NEGFIX = 0x60;
const T_FIXINT = 0x80;

// ---------------------------------------------------------------------------------- encode

/** Thrown inside the encoder; unwinding containers prepend their path segment. */
class EncodeFailure {
  readonly path: string[] = [];
  /** For cycles: [i, j] with the object at path depth j being the one at depth i. */
  cycle: [number, number] | null = null;
  constructor(readonly reason: string) {}
}

function findCycle(chain: object[]): [number, number] | null {
  for (let j = 1; j < chain.length; j++) {
    for (let i = 0; i < j; i++) if (chain[i] === chain[j]) return [i, j];
  }
  return null;
}

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  busy = false;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }
  /** Tag with an inline small count, or the long tag followed by a varint. */
  head(fixTag: number, fixMax: number, longTag: number, n: number): void {
    if (n <= fixMax) {
      this.ensure(1);
      this.buf[this.pos++] = fixTag + n;
    } else {
      this.ensure(1);
      this.buf[this.pos++] = longTag;
      this.varint(n);
    }
  }
}

const INITIAL_WRITER_BYTES = 4096;
const KEEP_WRITER_BYTES = 1024 * 1024;
let shared = new Writer(INITIAL_WRITER_BYTES);

/**
 * Encode one message. Throws an Error saying what cannot be encoded and where
 * (e.g. "cannot encode function at $.entries[2].apply") — that is a machine bug, not bad input.
 */
export function encodeMessage(msg: unknown): Uint8Array {
  // A getter that encodes re-entrantly must not scribble over the shared buffer.
  const w = shared.busy ? new Writer(256) : shared;
  w.busy = true;
  w.pos = 0;
  try {
    w.ensure(2);
    w.buf[0] = WIRE_MAGIC;
    w.buf[1] = WIRE_VERSION;
    w.pos = 2;
    encodeValue(w, msg, 0, []);
    return w.buf.slice(0, w.pos);
  } catch (e) {
    if (e instanceof EncodeFailure) {
      if (e.cycle) {
        const [i, j] = e.cycle;
        throw new Error(
          `encodeMessage: cyclic reference: $${e.path.slice(0, j).join('')} is the same object as $${e.path.slice(0, i).join('')} (a message must be a tree)`,
        );
      }
      throw new Error(`encodeMessage: ${e.reason} at $${e.path.join('')}`);
    }
    throw e;
  } finally {
    w.busy = false;
    if (w === shared && w.buf.length > KEEP_WRITER_BYTES) shared = new Writer(INITIAL_WRITER_BYTES);
  }
}

function encodeValue(w: Writer, v: unknown, depth: number, ancestors: object[]): void {
  switch (typeof v) {
    case 'string':
      encodeString(w, v);
      return;
    case 'number':
      encodeNumber(w, v);
      return;
    case 'boolean':
      w.ensure(1);
      w.buf[w.pos++] = v ? T_TRUE : T_FALSE;
      return;
    case 'object':
      if (v === null) {
        w.ensure(1);
        w.buf[w.pos++] = T_NULL;
        return;
      }
      if (v instanceof Uint8Array) {
        w.ensure(1);
        w.buf[w.pos++] = T_BYTES;
        w.varint(v.length);
        w.ensure(v.length);
        w.buf.set(v, w.pos);
        w.pos += v.length;
        return;
      }
      if (depth >= MAX_DEPTH) {
        // Cycles are looked for only here, so the common path pays nothing for them.
        const failure = new EncodeFailure(`nesting deeper than ${MAX_DEPTH} containers`);
        failure.cycle = findCycle([...ancestors.slice(0, depth), v]);
        throw failure;
      }
      ancestors[depth] = v;
      if (Array.isArray(v)) encodeArray(w, v, depth, ancestors);
      else encodeObject(w, v as Record<string, unknown>, depth, ancestors);
      return;
    case 'undefined':
      throw new EncodeFailure('cannot encode undefined (allowed only as an object property value, which is omitted)');
    case 'bigint':
      throw new EncodeFailure(`cannot encode bigint ${String(v)}n (use a number ≤ 2^53 or a decimal string)`);
    default:
      throw new EncodeFailure(`cannot encode ${typeof v}`);
  }
}

function encodeString(w: Writer, s: string): void {
  const n = utf8Length(s);
  if (n < 0) {
    throw new EncodeFailure(`cannot encode string with a lone UTF-16 surrogate at index ${-n - 1}`);
  }
  w.head(T_FIXSTR, 31, T_STRING, n);
  w.ensure(n);
  w.pos = writeUtf8(s, n, w.buf, w.pos);
}

function encodeNumber(w: Writer, v: number): void {
  if (Number.isInteger(v) && v <= MAX_INT && v >= -MAX_INT && !(v === 0 && 1 / v < 0)) {
    if (v >= 0) {
      if (v < 0x80) {
        w.ensure(1);
        w.buf[w.pos++] = T_FIXINT + v;
      } else {
        w.ensure(1);
        w.buf[w.pos++] = T_UINT;
        w.varint(v);
      }
    } else if (v >= -32) {
      w.ensure(1);
      w.buf[w.pos++] = 0x5f - v;
    } else {
      w.ensure(1);
      w.buf[w.pos++] = T_NEGINT;
      w.varint(-v - 1);
    }
    return;
  }
  if (!Number.isFinite(v)) throw new EncodeFailure(`cannot encode non-finite number ${v}`);
  w.ensure(9);
  w.buf[w.pos++] = T_FLOAT64;
  w.view.setFloat64(w.pos, v, false);
  w.pos += 8;
}

function encodeArray(w: Writer, a: unknown[], depth: number, ancestors: object[]): void {
  const n = a.length;
  w.head(T_FIXARRAY, 15, T_ARRAY, n);
  let i = 0;
  try {
    for (; i < n; i++) encodeValue(w, a[i], depth + 1, ancestors);
  } catch (e) {
    if (e instanceof EncodeFailure) e.path.unshift(`[${i}]`);
    throw e;
  }
}

function encodeObject(w: Writer, o: Record<string, unknown>, depth: number, ancestors: object[]): void {
  const proto = Object.getPrototypeOf(o) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new EncodeFailure(`cannot encode ${describeObject(o)} (only plain objects, arrays and Uint8Array)`);
  }
  const keys = Object.keys(o);
  let n = 0;
  for (let i = 0; i < keys.length; i++) if (o[keys[i]!] !== undefined) n++;
  w.head(T_FIXMAP, 15, T_MAP, n);
  let key = '';
  try {
    for (let i = 0; i < keys.length; i++) {
      key = keys[i]!;
      const v = o[key];
      if (v === undefined) continue;
      const encoded = keyCache.get(key) ?? encodeKey(key);
      const n = encoded.length;
      w.ensure(n);
      const buf = w.buf;
      let pos = w.pos;
      for (let j = 0; j < n; j++) buf[pos++] = encoded[j]!;
      w.pos = pos;
      encodeValue(w, v, depth + 1, ancestors);
    }
  } catch (e) {
    if (e instanceof EncodeFailure) e.path.unshift(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
    throw e;
  }
}

// Keys repeat across messages (a few dozen distinct ones per protocol); caching their
// encoded form (length prefix + UTF-8) skips measuring and writing them every time.
const KEY_CACHE_MAX_ENTRIES = 2048;
const KEY_CACHE_MAX_CHARS = 64;
const keyCache = new Map<string, Uint8Array>();

function encodeKey(key: string): Uint8Array {
  const len = utf8Length(key);
  if (len < 0) throw new EncodeFailure(`cannot encode key with a lone UTF-16 surrogate at index ${-len - 1}`);
  const kw = new Writer(len + 8);
  kw.varint(len);
  kw.ensure(len);
  kw.pos = writeUtf8(key, len, kw.buf, kw.pos);
  const encoded = kw.buf.slice(0, kw.pos);
  if (key.length <= KEY_CACHE_MAX_CHARS && keyCache.size < KEY_CACHE_MAX_ENTRIES) keyCache.set(key, encoded);
  return encoded;
}

function describeObject(o: object): string {
  const ctor = (o as { constructor?: { name?: unknown } }).constructor;
  const name = ctor && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'object with a custom prototype';
  return name === 'object with a custom prototype' ? name : `${name} instance`;
}

// ---------------------------------------------------------------------------------- decode

export interface DecodeLimits {
  /** Larger inputs are rejected with 'too-large' before any parsing. */
  maxBytes?: number;
  /** Deeper container nesting is rejected with 'too-deep'. Never above MAX_DEPTH. */
  maxDepth?: number;
}

/** Thrown inside the decoder only; decodeMessage turns it into a result. */
class DecodeFailure {
  constructor(readonly error: DecodeError) {}
}

function fail(code: DecodeErrorCode, message: string, offset: number): never {
  throw new DecodeFailure(decodeError(code, message, offset));
}

class Reader {
  pos = 2;
  private view: DataView | null = null;
  constructor(
    readonly buf: Uint8Array,
    readonly maxDepth: number,
  ) {}

  varint(max: number, what: string): number {
    const buf = this.buf;
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= buf.length) fail('truncated', `input ends inside the ${what}`, this.pos);
      const b = buf[this.pos++]!;
      const add = (b & 0x7f) * mul;
      if (add > max - result) fail('too-large', `${what} is larger than ${max}`, start);
      result += add;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    return fail('too-large', `${what} varint is longer than 8 bytes`, start);
  }

  /** A byte length or element count: must fit in what is left of the input. */
  length(what: string, minBytesEach: number): number {
    const at = this.pos;
    const n = this.varint(MAX_INT, what);
    if (n * minBytesEach > this.buf.length - this.pos) {
      fail('truncated', `${what} says ${n} but only ${this.buf.length - this.pos} bytes are left`, at);
    }
    return n;
  }

  string(n: number, what: string): string {
    const start = this.pos;
    if (n > this.buf.length - start) {
      fail('truncated', `${what} of ${n} bytes but only ${this.buf.length - start} are left`, start);
    }
    const s = readUtf8(this.buf, start, start + n);
    if (s === null) fail('bad-utf8', `${what} is not valid UTF-8`, start);
    this.pos = start + n;
    return s;
  }

  float64(): number {
    const at = this.pos;
    if (this.buf.length - at < 8) fail('truncated', 'input ends inside a float64', at);
    if (this.view === null) this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat64(at, false);
    if (!Number.isFinite(v)) fail('bad-tag', `float64 ${v} is not finite (the format forbids NaN/Infinity)`, at - 1);
    this.pos = at + 8;
    return v;
  }

  value(depth: number): unknown {
    const buf = this.buf;
    const at = this.pos;
    if (at >= buf.length) fail('truncated', 'input ends where a value should start', at);
    const tag = buf[this.pos++]!;
    if (tag >= T_FIXINT) return tag - T_FIXINT;
    if (tag >= T_NEGFIX) return 0x5f - tag;
    if (tag >= T_FIXMAP) return this.map(tag - T_FIXMAP, depth, at);
    if (tag >= T_FIXARRAY) return this.array(tag - T_FIXARRAY, depth, at);
    if (tag >= T_FIXSTR) return this.string(tag - T_FIXSTR, 'string');
    switch (tag) {
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_UINT:
        return this.varint(MAX_INT, 'integer');
      case T_NEGINT:
        return -this.varint(MAX_INT - 1, 'negative integer') - 1;
      case T_FLOAT64:
        return this.float64();
      case T_STRING:
        return this.string(this.length('string length', 1), 'string');
      case T_BYTES: {
        const n = this.length('byte-string length', 1);
        // A copy (not a view, not buf.slice, which shares memory on a Node Buffer): the
        // caller may reuse its receive buffer.
        const out = new Uint8Array(n);
        out.set(buf.subarray(this.pos, this.pos + n));
        this.pos += n;
        return out;
      }
      case T_ARRAY:
        return this.array(this.length('array count', 1), depth, at);
      case T_MAP:
        return this.map(this.length('map count', 2), depth, at);
      default:
        return fail('bad-tag', `unknown value tag 0x${tag.toString(16).padStart(2, '0')}`, at);
    }
  }

  array(n: number, depth: number, at: number): unknown[] {
    if (depth >= this.maxDepth) fail('too-deep', `containers nested deeper than ${this.maxDepth}`, at);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  map(n: number, depth: number, at: number): Record<string, unknown> {
    if (depth >= this.maxDepth) fail('too-deep', `containers nested deeper than ${this.maxDepth}`, at);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.string(this.length('key length', 0), 'map key');
      const v = this.value(depth + 1);
      // Plain assignment of '__proto__' would replace the prototype: hostile input must not.
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = v;
      }
    }
    return out;
  }
}

/** Decode one message. Never throws: any input gets either the message or a typed error. */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = {}): DecodeResult {
  try {
    if (!(bytes instanceof Uint8Array)) {
      return { ok: false, error: decodeError('bad-magic', 'input is not a Uint8Array', 0) };
    }
    const maxBytes = limits.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const maxDepth = Math.min(limits.maxDepth ?? MAX_DEPTH, MAX_DEPTH);
    if (bytes.length > maxBytes) {
      return {
        ok: false,
        error: decodeError('too-large', `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`, 0),
      };
    }
    if (bytes.length < 1) return { ok: false, error: decodeError('truncated', 'empty input (no header)', 0) };
    if (bytes[0] !== WIRE_MAGIC) {
      return {
        ok: false,
        error: decodeError(
          'bad-magic',
          `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')} is not the Muster wire magic 0x4d; the sender is not speaking this protocol`,
          0,
        ),
      };
    }
    if (bytes.length < 2) return { ok: false, error: decodeError('truncated', 'input ends inside the header', 1) };
    if (bytes[1] !== WIRE_VERSION) {
      return {
        ok: false,
        error: decodeError(
          'bad-version',
          `wire version ${bytes[1]} is not supported (this build speaks version ${WIRE_VERSION}); run the same Muster version on every agent`,
          1,
        ),
      };
    }
    const r = new Reader(bytes, maxDepth);
    const msg = r.value(0);
    if (r.pos !== bytes.length) {
      return {
        ok: false,
        error: decodeError('trailing-bytes', `${bytes.length - r.pos} bytes after the end of the message`, r.pos),
      };
    }
    return { ok: true, msg };
  } catch (e) {
    if (e instanceof DecodeFailure) return { ok: false, error: e.error };
    // Unreachable by design; kept so that a decoder bug can never crash a host.
    return { ok: false, error: decodeError('bad-tag', `decoder failure: ${String(e)}`, 0) };
  }
}

/** The codec the host loop uses (core/runtime/host.ts). */
export const wireCodec: WireCodec<unknown> = {
  encode: encodeMessage,
  decode: (bytes) => decodeMessage(bytes),
};
