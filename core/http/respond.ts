// core/http/respond.ts — building HTTP responses the way Consul writes them.
//
// Owns: JSON bodies (Go's encoding: compact, or 4-space indent + newline with ?pretty, and
// Go's HTML-safe escapes), plain-text error bodies, and the query-meta headers
// (X-Consul-Index never 0, X-Consul-KnownLeader, X-Consul-LastContact).
// Must never: decide status codes for protocol errors on its own; callers say which.
import type { QueryMeta } from '../rpc/types.ts';
import { stringifyJson64 } from './json64.ts';
import type { HttpResponse } from './types.ts';

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Go's json.Marshal escapes these so the output is safe inside HTML. */
const NEEDS_ESCAPE = /[<>&\u2028\u2029]/;

function goEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's encoding of a value. A bigint (a uint64 such as KV Flags past 2^53) makes
 *  JSON.stringify throw; only then the slower json64 serialiser runs. */
export function jsonBody(value: unknown, pretty: boolean): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, pretty ? 4 : 0);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    text = stringifyJson64(value, pretty ? 4 : 0);
  }
  return goEscape(text === undefined ? 'null' : pretty ? `${text}\n` : text);
}

export function json(status: number, value: unknown, pretty: boolean, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: jsonBody(value, pretty) };
}

export function text(status: number, message: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'Content-Type': TEXT_TYPE, ...headers }, body: message };
}

export function empty(status = 200, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: '' };
}

export function metaHeaders(meta: QueryMeta): Record<string, string> {
  return {
    'X-Consul-Index': String(Math.max(1, Math.floor(meta.index))),
    'X-Consul-KnownLeader': meta.knownLeader ? 'true' : 'false',
    'X-Consul-LastContact': String(Math.max(0, Math.floor(meta.lastContactMs))),
    ...(meta.filteredByACLs ? { 'X-Consul-Results-Filtered-By-ACLs': 'true' } : {}),
  };
}

/** Status for an error string coming back from the servers or the agent (Consul's mapping). */
export function errorStatus(error: string): number {
  if (error.includes('Permission denied') || error.includes('ACL not found')) return 403;
  return 500;
}

export function rpcError(error: string, meta?: QueryMeta): HttpResponse {
  return text(errorStatus(error), error, meta ? metaHeaders(meta) : {});
}
