// core/codec/errors.ts — the typed failures the wire decoder and the frame decoder report.
//
// Owns: the DecodeError shape and its codes, shared by wire.ts and frame.ts.
// Must never: throw; these are values handed back to callers (hostile bytes are expected).

export type DecodeErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-tag'
  | 'too-large'
  | 'trailing-bytes'
  | 'bad-utf8'
  | 'too-deep';

export interface DecodeError {
  code: DecodeErrorCode;
  /** What was wrong and, where it helps, what to do about it. */
  message: string;
  /** Byte offset in the input (or in the stream, for frames) where the problem starts. */
  offset: number;
}

export type DecodeResult = { ok: true; msg: unknown } | { ok: false; error: DecodeError };

export function decodeError(code: DecodeErrorCode, message: string, offset: number): DecodeError {
  return { code, message, offset };
}
