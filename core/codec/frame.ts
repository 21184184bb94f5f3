// core/codec/frame.ts — length-prefixed framing that turns a byte stream into messages.
//
// Owns: the stream frame format (u32 big-endian payload length, then the payload) and a
// decoder that survives arbitrary chunk boundaries.
// Must never: throw from FrameDecoder, interpret payloads, or buffer without a bound (a
// length prefix over the limit puts the decoder into a sticky error state; the caller
// should close the stream).
import { decodeError, type DecodeError } from './errors.ts';

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
const U32_MAX = 0xffffffff;
const RETAIN_BUFFER_BYTES = 64 * 1024;

/** A fresh copy (Buffer#slice would return a view into the caller's chunk). */
function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(bytes.subarray(from, to));
  return out;
}

/** Prefix `payload` with its length. Throws if the payload is over `maxFrameBytes`, since
 *  every receiver with that limit would reject it and drop the stream. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  const n = payload.length;
  if (n > maxFrameBytes || n > U32_MAX) {
    throw new Error(`encodeFrame: payload of ${n} bytes exceeds the ${Math.min(maxFrameBytes, U32_MAX)}-byte frame limit`);
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + n);
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = n & 0xff;
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Feed stream chunks in, get whole frame payloads out (each a fresh copy). */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  /** Unconsumed bytes are buf[start, end). */
  private start = 0;
  private end = 0;
  /** Stream offset of buf[start], for error reports. */
  private consumed = 0;
  private failure: DecodeError | null = null;

  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** The sticky error, once a frame was over the limit (or a chunk was not bytes). */
  get error(): DecodeError | null {
    return this.failure;
  }

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /** Append a chunk; returns the frames it completed, in order. [] once in the error state. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure) return [];
    if (!(chunk instanceof Uint8Array)) {
      this.failure = decodeError('bad-tag', 'stream chunk is not a Uint8Array', this.consumed + this.pendingBytes);
      return [];
    }
    const frames: Uint8Array[] = [];
    let src = chunk;
    let srcPos = 0;
    // Frames lying wholly inside the incoming chunk are copied straight out of it, so
    // the internal buffer only ever holds one partial frame.
    if (this.pendingBytes === 0) {
      srcPos = this.takeFrames(src, 0, frames);
      if (this.failure) return frames;
    }
    if (srcPos < src.length) this.append(src.subarray(srcPos));
    else return frames;
    const taken = this.takeFrames(this.buf.subarray(0, this.end), this.start, frames);
    if (this.failure) return frames;
    this.start = taken;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      // Do not keep a large frame's buffer alive on an idle connection.
      if (this.buf.length > RETAIN_BUFFER_BYTES) this.buf = new Uint8Array(0);
    }
    return frames;
  }

  /** Extract whole frames from bytes[pos…]; returns the position of the first byte not taken. */
  private takeFrames(bytes: Uint8Array, pos: number, frames: Uint8Array[]): number {
    const base = this.consumed - pos;
    while (bytes.length - pos >= FRAME_HEADER_BYTES) {
      const n = ((bytes[pos]! << 24) >>> 0) + (bytes[pos + 1]! << 16) + (bytes[pos + 2]! << 8) + bytes[pos + 3]!;
      if (n > this.maxFrameBytes) {
        this.failure = decodeError(
          'too-large',
          `frame of ${n} bytes exceeds the ${this.maxFrameBytes}-byte limit; closing the stream`,
          base + pos,
        );
        this.buf = new Uint8Array(0);
        this.start = this.end = 0;
        return pos;
      }
      if (bytes.length - pos - FRAME_HEADER_BYTES < n) break;
      const from = pos + FRAME_HEADER_BYTES;
      frames.push(copyOf(bytes, from, from + n));
      pos = from + n;
    }
    this.consumed = base + pos;
    return pos;
  }

  private append(bytes: Uint8Array): void {
    const pending = this.end - this.start;
    const need = pending + bytes.length;
    if (this.end + bytes.length > this.buf.length) {
      if (need <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(need, this.buf.length * 2, 1024));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = pending;
    }
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }
}
