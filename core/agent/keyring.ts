// core/agent/keyring.ts — the gossip keyrings in the data dir (serf/local.keyring, serf/remote.keyring).
//
// Owns: Consul's start-up rule for -encrypt: with no keyring the key is written to the
// keyring (LAN, and WAN on servers) and used; once a keyring exists it wins and -encrypt is
// ignored with a warning. The file is a JSON array of base64 keys, primary first.
// Must never: do the I/O itself (the process layer reads and writes through the disk port)
// or accept a malformed keyring silently — it names the file and what is wrong.
import { toBase64 } from '../catalog/base64.ts';
import { decodeGossipKey, UsageError } from './config.ts';

export const LAN_KEYRING_PATH = 'serf/local.keyring';
export const WAN_KEYRING_PATH = 'serf/remote.keyring';

export interface PoolKeys {
  /** Installed keys, primary first; [] = this pool is not encrypted. */
  keys: Uint8Array[];
}

export interface KeyringSetup {
  lan: PoolKeys;
  wan: PoolKeys;
  /** Lines for stdout before the banner (Consul prints them as '==> WARNING: …'). */
  warnings: string[];
  /** Keyrings to write (data-dir-relative path, bytes) before the agent starts. */
  writes: { path: string; data: Uint8Array }[];
}

export class KeyringError extends Error {}

/** Parse one keyring file's bytes. */
export function parseKeyring(path: string, bytes: Uint8Array): Uint8Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new KeyringError(`keyring ${path} is not JSON (${(err as Error).message}); it must be a JSON array of base64 keys, e.g. ["<key>"]`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new KeyringError(`keyring ${path} must be a non-empty JSON array of base64 keys, e.g. ["<key>"]`);
  }
  return parsed.map((k, i) => {
    if (typeof k !== 'string') throw new KeyringError(`keyring ${path}: entry ${i} is not a string`);
    try {
      return decodeGossipKey(k);
    } catch (err) {
      if (err instanceof UsageError) throw new KeyringError(`keyring ${path}: entry ${i}: ${err.message}`);
      throw err;
    }
  });
}

export function encodeKeyring(keys: Uint8Array[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(keys.map((k) => toBase64(k))));
}

/**
 * Decide the keys of each pool from the -encrypt value (already validated, '' = none) and
 * the keyrings on disk. `read` takes data-dir-relative paths. Throws KeyringError.
 */
export function setupKeyrings(encrypt: string, server: boolean, read: (path: string) => Uint8Array | null): KeyringSetup {
  const given = encrypt !== '' ? decodeGossipKey(encrypt) : null;
  const out: KeyringSetup = { lan: { keys: [] }, wan: { keys: [] }, warnings: [], writes: [] };
  const pools: { pool: 'lan' | 'wan'; path: string; label: string }[] = [{ pool: 'lan', path: LAN_KEYRING_PATH, label: 'LAN' }];
  if (server) pools.push({ pool: 'wan', path: WAN_KEYRING_PATH, label: 'WAN' });
  for (const { pool, path, label } of pools) {
    const existing = read(path);
    if (existing !== null) {
      out[pool].keys = parseKeyring(path, existing);
      if (given) out.warnings.push(`==> WARNING: ${label} keyring exists but -encrypt given, using keyring`);
    } else if (given) {
      out[pool].keys = [given];
      out.writes.push({ path, data: encodeKeyring([given]) });
    }
  }
  return out;
}
