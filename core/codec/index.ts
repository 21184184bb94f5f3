// core/codec/index.ts — the public face of the codec: wire messages, stream frames, CRC-32.
//
// Owns: nothing but re-exports; import codec things from here.
// Must never: grow logic of its own.
export type { DecodeError, DecodeErrorCode, DecodeResult } from './errors.ts';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_DEPTH,
  WIRE_MAGIC,
  WIRE_VERSION,
  decodeMessage,
  encodeMessage,
  wireCodec,
  type DecodeLimits,
} from './wire.ts';
export { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.ts';
export { crc32, crc32Update } from './crc32.ts';
