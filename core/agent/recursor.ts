// core/agent/recursor.ts — forwarding a DNS query outside the domain to the recursors.
//
// Owns: Consul's handleRecurse: ask each recursor in order (each for up to recursor_timeout),
// relay the first reply carrying the query's id, and when every one failed answer SERVFAIL
// (qr, rd echoed, ra) with the question echoed, logging as Consul does.
// Must never: block or retry a recursor; the world's ServePort.dnsForward does the I/O and
// calls back once per attempt. An upstream's bytes are untrusted: a reply that is not a
// response to this query counts as that recursor failing.
import type { LogLevel } from '../machine.ts';
import type { ServePort } from '../runtime/ports.ts';
import { readName, typeName } from '../dns/wire.ts';

const RCODE_SERVFAIL = 2;

export interface ForwardRequest {
  recursors: string[];
  request: Uint8Array;
  timeoutMs: number;
}

/** True when `reply` is a DNS response to `request` (same id, QR set). */
export function isReplyTo(request: Uint8Array, reply: Uint8Array): boolean {
  return reply.length >= 12 && request.length >= 2 && (reply[2]! & 0x80) !== 0 && reply[0] === request[0] && reply[1] === request[1];
}

/** The question of a query as 'name. TYPE' for log lines, or '?' when unreadable. */
export function describeQuestion(request: Uint8Array): string {
  try {
    const name = readName(request, 12);
    const text = name.labels.length === 0 ? '.' : name.labels.map((l) => String.fromCharCode(...l)).join('.') + '.';
    const qtype = ((request[name.next] ?? 0) << 8) | (request[name.next + 1] ?? 0);
    return `${text} ${typeName(qtype)}`;
  } catch {
    return '?';
  }
}

/** SERVFAIL for `request`: its id and opcode, rd echoed, ra set, its question echoed when readable. */
export function servfailFor(request: Uint8Array): Uint8Array {
  let question: Uint8Array | null = null;
  try {
    const qd = request.length >= 6 ? (request[4]! << 8) | request[5]! : 0;
    if (qd === 1) {
      const name = readName(request, 12);
      if (name.next + 4 <= request.length) question = request.subarray(12, name.next + 4);
    }
  } catch {
    question = null;
  }
  const out = new Uint8Array(12 + (question ? question.length : 0));
  out[0] = request[0] ?? 0;
  out[1] = request[1] ?? 0;
  const opcodeRd = (request[2] ?? 0) & 0x79; // opcode (bits 3-6) and RD
  out[2] = 0x80 | opcodeRd;
  out[3] = 0x80 | RCODE_SERVFAIL;
  out[5] = question ? 1 : 0;
  if (question) out.set(question, 12);
  return out;
}

/**
 * Try the recursors in order; `done` is called exactly once with the bytes to send back.
 * Without a dnsForward port (a world that cannot reach upstreams) every recursor fails at once.
 */
export function forwardToRecursors(
  serve: ServePort | undefined,
  req: ForwardRequest,
  log: (level: LogLevel, text: string) => void,
  done: (reply: Uint8Array) => void,
): void {
  const attempt = (i: number): void => {
    if (i >= req.recursors.length) {
      log('ERR', `all resolvers failed for ${describeQuestion(req.request)}`);
      done(servfailFor(req.request));
      return;
    }
    const server = req.recursors[i]!;
    if (!serve?.dnsForward) {
      log('ERR', `recurse failed: cannot reach ${server}: this host has no upstream DNS transport`);
      attempt(i + 1);
      return;
    }
    serve.dnsForward(server, req.request, req.timeoutMs, (reply) => {
      if (reply && isReplyTo(req.request, reply)) {
        done(reply);
        return;
      }
      log('ERR', `recurse failed: ${reply ? `reply from ${server} is not a response to the query` : `no answer from ${server} within ${req.timeoutMs}ms`}`);
      attempt(i + 1);
    });
  };
  attempt(0);
}
