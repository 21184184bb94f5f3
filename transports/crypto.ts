// transports/crypto.ts — the CryptoPort in real mode: AES-GCM from node:crypto, random nonces.
//
// Owns: sealing/opening gossip bytes in memberlist's version-1 layout
// ([1][nonce 12][ciphertext][tag 16]) with a fresh OS-random nonce per message.
// Must never: throw on hostile input in open() (network bytes); it returns null instead.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SEAL_OVERHEAD_BYTES, SEAL_VERSION, type CryptoPort } from '../core/runtime/ports.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function cipherName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 24) return 'aes-192-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`gossip key is ${key.length} bytes; it must be 16, 24 or 32`);
}

export class RealCrypto implements CryptoPort {
  seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(cipherName(key), key, nonce);
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    const out = new Uint8Array(plaintext.length + SEAL_OVERHEAD_BYTES);
    out[0] = SEAL_VERSION;
    out.set(nonce, 1);
    out.set(body, 1 + NONCE_BYTES);
    out.set(tail, 1 + NONCE_BYTES + body.length);
    out.set(cipher.getAuthTag(), out.length - TAG_BYTES);
    return out;
  }

  open(key: Uint8Array, sealed: Uint8Array): Uint8Array | null {
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
}
