// ui/model/kv.ts — KV values and keys as the browser handles them.
//
// Owns: base64 → text (UTF-8, or a "binary" marker), API paths for keys (segments
// percent-encoded, '/' kept), and the folder arithmetic of the KV browser.
// Must never: fetch or render.
import { encodeSegments } from './route.ts';

export interface KvEntry {
  Key: string;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Flags: number;
  Value: string | null;
  Session?: string;
}

export interface DecodedValue {
  text: string;
  /** Not valid UTF-8: `text` is a hex dump instead. */
  binary: boolean;
  bytes: number;
}

export function decodeValue(b64: string | null): DecodedValue {
  if (!b64) return { text: '', binary: false, bytes: 0 };
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), binary: false, bytes: bytes.length };
  } catch {
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    return { text: hex, binary: true, bytes: bytes.length };
  }
}

export function kvPath(key: string): string {
  return `/v1/kv/${encodeSegments(key)}`;
}

/** "a/b/c" → "a/b/", "a/b/" → "a/", "a" → "". */
export function parentPrefix(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? '' : trimmed.slice(0, i + 1);
}

/** The part of a listed key below the prefix being browsed. */
export function relativeKey(prefix: string, key: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** A new key typed relative to the browsed prefix; leading slashes dropped (Consul keys have none). */
export function newKeyPath(prefix: string, typed: string): string {
  return prefix + typed.trim().replace(/^\/+/, '');
}
