// core/dns/trim.ts — fitting a reply into what the transport allows.
//
// Owns: Consul's trimUDPResponse rules over encoded answer units: without EDNS (limit 512
// bytes) at most udp_answer_limit answers; answers are kept as a prefix while the message
// fits the size limit (512, the EDNS buffer size, or 65535 over TCP); an answer's additional
// records (its SRV target's address) come and go with it, so SRV/A pairs stay consistent.
// As in Consul every SRV record brings its own additional record, even when an earlier SRV
// record of the same node already brought an equal one: HAProxy pairs them one to one.
// Must never: drop the question, the authority section or the OPT record.

export const DNS_UDP_MIN_BYTES = 512;
/** Largest UDP payload over IPv4 (65535 − 20 IP − 8 UDP). */
export const DNS_UDP_MAX_BYTES = 65507;
/** A TCP DNS message carries a 2-byte length. */
export const DNS_TCP_MAX_BYTES = 65535;

/** One answer record and the additional records that belong to it. */
export interface AnswerUnit {
  answer: Uint8Array;
  additionals: Uint8Array[];
}

export interface TrimLimits {
  maxBytes: number;
  /** Infinity when no answer-count limit applies. */
  maxAnswers: number;
}

export function limitsFor(transport: 'udp' | 'tcp', ednsPayloadBytes: number | null, udpAnswerLimit: number): TrimLimits {
  if (transport === 'tcp') return { maxBytes: DNS_TCP_MAX_BYTES, maxAnswers: Infinity };
  const maxBytes = Math.min(DNS_UDP_MAX_BYTES, Math.max(DNS_UDP_MIN_BYTES, ednsPayloadBytes ?? 0));
  // As in Consul, the answer-count limit applies only when the client can take no more
  // than the classic 512 bytes.
  return { maxBytes, maxAnswers: maxBytes === DNS_UDP_MIN_BYTES ? udpAnswerLimit : Infinity };
}

export interface Fitted {
  answers: Uint8Array[];
  additionals: Uint8Array[];
  bytes: number;
  /** True when some answer was left out. */
  trimmed: boolean;
}

/**
 * The longest prefix of `units` that fits. `fixedBytes` is everything that is always sent
 * (header, question, authority, OPT). Sizes only grow with the prefix, so stopping at the
 * first unit that does not fit gives the same result as Consul's trimming from the end.
 */
export function fitUnits(units: readonly AnswerUnit[], fixedBytes: number, limits: TrimLimits): Fitted {
  const answers: Uint8Array[] = [];
  const additionals: Uint8Array[] = [];
  let bytes = fixedBytes;
  for (const unit of units) {
    if (answers.length >= limits.maxAnswers) break;
    let add = unit.answer.length;
    for (const x of unit.additionals) add += x.length;
    if (bytes + add > limits.maxBytes) break;
    bytes += add;
    answers.push(unit.answer);
    for (const x of unit.additionals) additionals.push(x);
  }
  return { answers, additionals, bytes, trimmed: answers.length < units.length };
}
