// core/http/endpoints/kv.ts — /v1/kv/<key>: GET (single, ?recurse, ?keys, ?raw), PUT
// (?flags, ?cas, ?acquire, ?release), DELETE (?recurse, ?cas).
//
// Owns: Consul's KV endpoint rules: "Missing key name", conflicting flags, the 512 KB value
// limit (413), 404 with index headers for a missing key or empty listing, raw bodies.
// Must never: decide lock or CAS outcomes; the servers answer true/false.
import { KV_VALUE_MAX_BYTES, type Command } from '../../catalog/commands.ts';
import type { KVEntry } from '../../catalog/types.ts';
import { toU64 } from '../../catalog/u64.ts';
import { read, respond, write, type Call } from '../call.ts';
import { kvJson } from '../encode.ts';
import { BadRequest } from '../params.ts';
import { empty, json, metaHeaders, text } from '../respond.ts';
import type { HttpOutcome, HttpResponse } from '../types.ts';

function missingKey(key: string): void {
  if (key === '') throw new BadRequest('Missing key name');
}

export function kvGet(call: Call, key: string): HttpOutcome {
  const p = call.params;
  if (p.has('keys')) {
    const separator = p.get('separator') ?? p.get('seperator') ?? '';
    return read(call, { q: 'kvKeys', prefix: key, separator }, (v, meta) => {
      const keys = v as string[];
      // An empty listing is a 404, except for the root, which lists as [].
      if (keys.length === 0 && key !== '') return empty(404, metaHeaders(meta));
      return json(200, keys, call.pretty, metaHeaders(meta));
    });
  }
  if (p.flag('recurse')) {
    return read(call, { q: 'kvList', prefix: key }, (v, meta) => {
      const entries = v as KVEntry[];
      if (entries.length === 0) return empty(404, metaHeaders(meta));
      return json(200, entries.map(kvJson), call.pretty, metaHeaders(meta));
    });
  }
  missingKey(key);
  const raw = p.flag('raw');
  return read(call, { q: 'kvGet', key }, (v, meta): HttpResponse => {
    const e = v as KVEntry | null;
    if (!e) return empty(404, metaHeaders(meta));
    if (raw) return { status: 200, headers: { 'Content-Type': 'application/octet-stream', ...metaHeaders(meta) }, body: e.Value };
    return json(200, [kvJson(e)], call.pretty, metaHeaders(meta));
  });
}

export function kvPut(call: Call, key: string): HttpOutcome {
  const p = call.params;
  missingKey(key);
  const exclusive = ['cas', 'acquire', 'release'].filter((f) => p.has(f));
  if (exclusive.length > 1) throw new BadRequest(`Conflicting flags: ${p.goEncode()}`);
  const value = call.req.body;
  if (value.length > KV_VALUE_MAX_BYTES) {
    return respond(text(413, `Value exceeds ${KV_VALUE_MAX_BYTES} byte limit`));
  }
  const flagsText = p.get('flags');
  const flags = flagsText === undefined || flagsText === '' ? undefined : toU64(flagsText);
  if (flags === null) throw new BadRequest(`Invalid flags: ${JSON.stringify(flagsText)} (expected an unsigned 64-bit integer)`);
  const base = { nowMs: call.ctx.nowMs, key, value, ...(flags !== undefined ? { flags } : {}) };
  let cmd: Command;
  if (p.has('cas')) {
    const casIndex = p.uint('cas', 'cas index');
    cmd = { op: 'kvCas', ...base, casIndex: casIndex ?? 0 };
  } else if (p.has('acquire')) {
    cmd = { op: 'kvLock', ...base, session: p.get('acquire') ?? '' };
  } else if (p.has('release')) {
    cmd = { op: 'kvUnlock', ...base, session: p.get('release') ?? '' };
  } else {
    cmd = { op: 'kvSet', ...base };
  }
  return write(call, cmd);
}

export function kvDelete(call: Call, key: string): HttpOutcome {
  const p = call.params;
  if (p.flag('recurse')) return write(call, { op: 'kvDeleteTree', nowMs: call.ctx.nowMs, prefix: key });
  missingKey(key);
  const casIndex = p.has('cas') ? (p.uint('cas', 'cas index') ?? 0) : undefined;
  return write(call, { op: 'kvDelete', nowMs: call.ctx.nowMs, key, ...(casIndex !== undefined ? { casIndex } : {}) });
}
