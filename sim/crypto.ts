// sim/crypto.ts — the CryptoPort in the simulator: real AES-GCM, deterministic nonces.
//
// Owns: sealing and opening gossip for one simulated process, with nonces derived from the
// host's ip, the pid and a per-process counter, so the same seed seals the same bytes.
// Must never: draw system randomness (that would break replay). Nonce reuse across a
// process restart with the same key is accepted here: nothing secret crosses a virtual wire.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { SEAL_OVERHEAD_BYTES, SEAL_VERSION, type CryptoPort } from '../core/runtime/ports.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 24) return 'aes-192-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`gossip key is ${key.length} bytes; it must be 16, 24 or 32`);
}

/** AES-GCM seal with a given nonce (shared by the sim port; layout of CryptoPort.seal). */
export function sealWithNonce(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv(cipherName(key), key, nonce);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(plaintext.length + SEAL_OVERHEAD_BYTES);
  out[0] = SEAL_VERSION;
  out.set(nonce, 1);
  out.set(body, 1 + NONCE_BYTES);
  out.set(tail, 1 + NONCE_BYTES + body.length);
  out.set(tag, out.length - TAG_BYTES);
  return out;
}

export function openSealed(key: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < SEAL_OVERHEAD_BYTES || sealed[0] !== SEAL_VERSION) return null;
  try {
    const decipher = createDecipheriv(cipherName(key), key, sealed.subarray(1, 1 + NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    const out = new Uint8Array(body.length + tail.length);
    out.set(body, 0);
    out.set(tail, body.length);
    return out;
  } catch {
    return null;
  }
}

/** A process's CryptoPort: nonce = ip (4 bytes) ‖ pid (4) ‖ counter (4). */
export function makeSimCrypto(ip: string, pid: number): CryptoPort {
  const prefix = new Uint8Array(8);
  const octets = ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) prefix[i] = (octets[i] ?? 0) & 0xff;
  new DataView(prefix.buffer).setUint32(4, pid >>> 0);
  let counter = 0;
  return {
    seal(key, plaintext) {
      const nonce = new Uint8Array(NONCE_BYTES);
      nonce.set(prefix, 0);
      new DataView(nonce.buffer).setUint32(8, counter);
      counter = (counter + 1) >>> 0;
      return sealWithNonce(key, nonce, plaintext);
    },
    open: openSealed,
  };
}
