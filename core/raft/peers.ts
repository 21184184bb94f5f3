// core/raft/peers.ts — Consul 0.5's `raft/peers.json`: the live peer set, and the manual-recovery input.
//
// Owns: parsing both on-disk formats (old `["ip:port", …]`, new `[{id, address, non_voter}, …]`,
// and `null`), formatting the old format, and the error that names the file and the problem.
// Must never: touch the disk itself; the node reads bytes through the recovery disk view.

export const PEERS_PATH = 'raft/peers.json';

/** A start-up problem with the Raft data dir, naming the file and how to fix it. */
export class RaftRecoveryError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'RaftRecoveryError';
  }
}

const ADDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

function checkAddr(file: string, where: string, addr: unknown): string {
  if (typeof addr !== 'string') {
    throw new RaftRecoveryError(file, `${where} must be a string "ip:port", got ${JSON.stringify(addr)}`);
  }
  const m = ADDR_RE.exec(addr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 65535) {
    throw new RaftRecoveryError(file, `${where} "${addr}" is not an "ip:port" address (e.g. "10.1.0.1:8300")`);
  }
  return addr;
}

/**
 * Parse peers.json. Returns null for a `null` file or an empty file (no peers), else the voters.
 * Non-voters of the new format are not part of the voting peer set.
 */
export function parsePeersJson(bytes: Uint8Array, file = PEERS_PATH): string[] | null {
  const text = new TextDecoder().decode(bytes).trim();
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RaftRecoveryError(
      file,
      `is not valid JSON (${(e as Error).message}); write a JSON array such as ["10.1.0.1:8300","10.1.0.2:8300"] or null`,
    );
  }
  if (value === null) return null;
  if (!Array.isArray(value)) {
    throw new RaftRecoveryError(file, `must be a JSON array of "ip:port" strings or of {"id","address","non_voter"} objects, got ${typeof value}`);
  }
  const voters: string[] = [];
  const seenIds = new Set<string>();
  value.forEach((item, i) => {
    if (typeof item === 'string') {
      voters.push(checkAddr(file, `entry ${i}`, item));
      return;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new RaftRecoveryError(file, `entry ${i} must be "ip:port" or an object with "id" and "address", got ${JSON.stringify(item)}`);
    }
    const o = item as Record<string, unknown>;
    if (typeof o['id'] !== 'string' || o['id'] === '') {
      throw new RaftRecoveryError(file, `entry ${i} is missing "id" (the server's node ID or address)`);
    }
    if (seenIds.has(o['id'])) throw new RaftRecoveryError(file, `entry ${i} repeats id "${o['id']}"`);
    seenIds.add(o['id']);
    const address = checkAddr(file, `entry ${i} "address"`, o['address']);
    const nonVoter = o['non_voter'];
    if (nonVoter !== undefined && typeof nonVoter !== 'boolean') {
      throw new RaftRecoveryError(file, `entry ${i} "non_voter" must be true or false`);
    }
    if (!nonVoter) voters.push(address);
  });
  const dup = voters.find((a, i) => voters.indexOf(a) !== i);
  if (dup) throw new RaftRecoveryError(file, `address "${dup}" appears twice`);
  if (value.length > 0 && voters.length === 0) throw new RaftRecoveryError(file, 'holds no voter; at least one server must vote');
  return voters;
}

/** Old (0.5) format, sorted for a stable file; `null` after a graceful leave. */
export function formatPeersJson(peers: string[] | null): Uint8Array {
  const text = peers === null ? 'null' : JSON.stringify([...peers].sort());
  return new TextEncoder().encode(text);
}
