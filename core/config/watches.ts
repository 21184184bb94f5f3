// core/config/watches.ts — watch definitions (the `watches` config key) and the HTTP endpoint
// each watch type blocks on.
//
// Owns: validating one watch (type, its parameters, its handler) into a WatchDefinition with
// Consul's names and defaults, and `watchPlan`, the one place that says which endpoint a watch
// type reads (reference §1.10) — used by the agent's own watches and by `muster watch`.
// Must never: run a handler or issue a request; the agent and the CLI do that.

export type WatchType = 'key' | 'keyprefix' | 'services' | 'nodes' | 'service' | 'checks' | 'event';

export const WATCH_TYPES: readonly WatchType[] = ['key', 'keyprefix', 'services', 'nodes', 'service', 'checks', 'event'];

export type WatchHandler =
  | { kind: 'script'; args: string[] }
  | { kind: 'http'; url: string; method: string; header: Record<string, string[]>; timeoutMs: number; tlsSkipVerify: boolean };

export interface WatchDefinition {
  type: WatchType;
  key: string;
  prefix: string;
  service: string;
  tags: string[];
  passingOnly: boolean;
  state: string;
  name: string;
  datacenter: string;
  token: string;
  stale: boolean;
  handler: WatchHandler;
  /** Where it was defined ('file:line:col'), for log lines. */
  origin: string;
}

export interface WatchPlan {
  /** Path and query, without `index`/`wait` (the caller adds them). */
  path: string;
  /** What a 404 means for this type (a missing key is null, an empty prefix []). */
  notFound: unknown;
  /** The key type hands a handler one object, not the one-element list the KV API returns. */
  single: boolean;
}

const enc = (s: string): string => encodeURIComponent(s);
const encKey = (k: string): string => k.split('/').map(enc).join('/');

/** The endpoint a watch blocks on. */
export function watchPlan(w: Pick<WatchDefinition, 'type' | 'key' | 'prefix' | 'service' | 'tags' | 'passingOnly' | 'state' | 'name' | 'datacenter' | 'token' | 'stale'>): WatchPlan {
  const q: string[] = [];
  if (w.datacenter) q.push(`dc=${enc(w.datacenter)}`);
  if (w.token) q.push(`token=${enc(w.token)}`);
  if (w.stale) q.push('stale');
  const withQ = (path: string, extra: string[] = []): string => {
    const all = [...extra, ...q];
    return all.length > 0 ? `${path}?${all.join('&')}` : path;
  };
  switch (w.type) {
    case 'key':
      return { path: withQ(`/v1/kv/${encKey(w.key)}`), notFound: null, single: true };
    case 'keyprefix':
      return { path: withQ(`/v1/kv/${encKey(w.prefix)}`, ['recurse']), notFound: [], single: false };
    case 'services':
      return { path: withQ('/v1/catalog/services'), notFound: {}, single: false };
    case 'nodes':
      return { path: withQ('/v1/catalog/nodes'), notFound: [], single: false };
    case 'service':
      return {
        path: withQ(`/v1/health/service/${enc(w.service)}`, [...w.tags.map((t) => `tag=${enc(t)}`), ...(w.passingOnly ? ['passing'] : [])]),
        notFound: [],
        single: false,
      };
    case 'checks':
      return {
        path: withQ(w.service ? `/v1/health/checks/${enc(w.service)}` : `/v1/health/state/${enc(w.state || 'any')}`),
        notFound: [],
        single: false,
      };
    case 'event':
      return { path: withQ('/v1/event/list', w.name ? [`name=${enc(w.name)}`] : []), notFound: [], single: false };
  }
}

/** A problem in one watch: the key inside the watch (e.g. 'type') and why. */
export class WatchProblem {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {}
}

const PARAMS: Record<WatchType, string[]> = {
  key: ['key'],
  keyprefix: ['prefix'],
  services: [],
  nodes: [],
  service: ['service', 'tag', 'passingonly'],
  checks: ['service', 'state'],
  event: ['name'],
};
const COMMON = ['type', 'datacenter', 'token', 'handler', 'args', 'handler_type', 'http_handler_config', 'stale'];
const STATES = ['any', 'passing', 'warning', 'critical'];

/**
 * One watch from plain config data (keys as the file spelled them; Consul matches them
 * case-insensitively). Returns the definition or the first problem.
 */
export function parseWatch(raw: unknown, parseDurationMs: (text: string) => number | null, origin: string): WatchDefinition | WatchProblem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return new WatchProblem('', 'each watch must be an object/block');
  const f = new Map<string, { key: string; value: unknown }>();
  for (const [k, v] of Object.entries(raw)) f.set(k.toLowerCase(), { key: k, value: v });
  const typeE = f.get('type');
  if (!typeE || typeof typeE.value !== 'string' || typeE.value === '') {
    return new WatchProblem('type', `a watch needs a type (one of ${WATCH_TYPES.join(', ')})`);
  }
  const type = typeE.value as WatchType;
  if (!WATCH_TYPES.includes(type)) return new WatchProblem(typeE.key, `unknown watch type ${JSON.stringify(typeE.value)} (use ${WATCH_TYPES.join(', ')})`);
  const allowed = new Set([...COMMON, ...PARAMS[type]]);
  for (const [k, e] of f) {
    if (!allowed.has(k)) {
      const own = PARAMS[type].length > 0 ? PARAMS[type].join(', ') : 'none';
      return new WatchProblem(e.key, `not a parameter of a ${type} watch (its parameters: ${own}; all watches: datacenter, token, stale, handler/args, handler_type, http_handler_config)`);
    }
  }
  const str = (k: string): string | WatchProblem => {
    const e = f.get(k);
    if (!e || e.value === null) return '';
    return typeof e.value === 'string' ? e.value : new WatchProblem(e.key, 'must be a string');
  };
  const boolOf = (k: string): boolean | WatchProblem => {
    const e = f.get(k);
    if (!e || e.value === null) return false;
    return typeof e.value === 'boolean' ? e.value : new WatchProblem(e.key, 'must be true or false');
  };
  const fields: Record<string, string> = {};
  for (const k of ['key', 'prefix', 'service', 'state', 'name', 'datacenter', 'token', 'handler', 'handler_type']) {
    const v = str(k);
    if (v instanceof WatchProblem) return v;
    fields[k] = v;
  }
  const passingOnly = boolOf('passingonly');
  if (passingOnly instanceof WatchProblem) return passingOnly;
  const stale = boolOf('stale');
  if (stale instanceof WatchProblem) return stale;
  let tags: string[] = [];
  const tagE = f.get('tag');
  if (tagE && tagE.value !== null) {
    if (typeof tagE.value === 'string') tags = [tagE.value];
    else if (Array.isArray(tagE.value) && tagE.value.every((t) => typeof t === 'string')) tags = tagE.value as string[];
    else return new WatchProblem(tagE.key, 'must be a string or a list of strings');
  }
  if (type === 'key' && !fields['key']) return new WatchProblem('key', 'a key watch needs key = "…"');
  if (type === 'keyprefix' && !f.has('prefix')) return new WatchProblem('prefix', 'a keyprefix watch needs prefix = "…"');
  if (type === 'service' && !fields['service']) return new WatchProblem('service', 'a service watch needs service = "…"');
  if (type === 'checks' && fields['service'] && fields['state']) return new WatchProblem('state', 'a checks watch takes service or state, not both');
  if (type === 'checks' && fields['state'] && !STATES.includes(fields['state']!)) {
    return new WatchProblem('state', `${JSON.stringify(fields['state'])} is not a state (use ${STATES.join(', ')})`);
  }

  const handler = parseHandler(f, fields['handler']!, fields['handler_type']!, parseDurationMs);
  if (handler instanceof WatchProblem) return handler;
  return {
    type,
    key: fields['key']!,
    prefix: fields['prefix']!,
    service: fields['service']!,
    tags,
    passingOnly,
    state: fields['state']!,
    name: fields['name']!,
    datacenter: fields['datacenter']!,
    token: fields['token']!,
    stale,
    handler,
    origin,
  };
}

function parseHandler(
  f: Map<string, { key: string; value: unknown }>,
  handlerText: string,
  handlerType: string,
  parseDurationMs: (text: string) => number | null,
): WatchHandler | WatchProblem {
  const argsE = f.get('args');
  const httpE = f.get('http_handler_config');
  const type = handlerType || (httpE ? 'http' : 'script');
  if (type !== 'script' && type !== 'http') return new WatchProblem('handler_type', `${JSON.stringify(handlerType)} is not a handler type (use script or http)`);
  if (type === 'http') {
    if (handlerText || argsE) return new WatchProblem('handler_type', 'an http handler takes http_handler_config, not handler/args');
    if (!httpE || typeof httpE.value !== 'object' || httpE.value === null || Array.isArray(httpE.value)) {
      return new WatchProblem('http_handler_config', 'an http handler needs http_handler_config { path = "http://…" }');
    }
    const h = new Map(Object.entries(httpE.value as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), { key: k, value: v }]));
    for (const [k, e] of h) {
      if (!['path', 'method', 'header', 'timeout', 'tls_skip_verify'].includes(k)) {
        return new WatchProblem(`http_handler_config.${e.key}`, 'unknown key (known: path, method, header, timeout, tls_skip_verify)');
      }
    }
    const path = h.get('path')?.value;
    if (typeof path !== 'string' || !/^https?:\/\/[^/\s]+/i.test(path)) {
      return new WatchProblem('http_handler_config.path', 'must be an http:// or https:// URL');
    }
    const method = h.get('method')?.value ?? 'POST';
    if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) return new WatchProblem('http_handler_config.method', 'must be an HTTP method like POST');
    const header: Record<string, string[]> = {};
    const hv = h.get('header')?.value;
    if (hv !== undefined && hv !== null) {
      if (typeof hv !== 'object' || Array.isArray(hv)) return new WatchProblem('http_handler_config.header', 'must be a map of string lists');
      for (const [k, v] of Object.entries(hv as Record<string, unknown>)) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
          return new WatchProblem(`http_handler_config.header.${k}`, 'must be a list of strings like ["value"]');
        }
        header[k] = v as string[];
      }
    }
    let timeoutMs = 10_000;
    const tv = h.get('timeout')?.value;
    if (tv !== undefined && tv !== null) {
      const ms = typeof tv === 'string' ? parseDurationMs(tv) : null;
      if (ms === null || ms <= 0) return new WatchProblem('http_handler_config.timeout', 'must be a duration like "10s"');
      timeoutMs = ms;
    }
    const skip = h.get('tls_skip_verify')?.value ?? false;
    if (typeof skip !== 'boolean') return new WatchProblem('http_handler_config.tls_skip_verify', 'must be true or false');
    return { kind: 'http', url: path, method: method.toUpperCase(), header, timeoutMs, tlsSkipVerify: skip };
  }
  if (httpE) return new WatchProblem('http_handler_config', 'http_handler_config needs handler_type = "http"');
  if (handlerText && argsE) return new WatchProblem('args', 'a watch takes handler or args, not both');
  if (argsE) {
    if (!Array.isArray(argsE.value) || argsE.value.length === 0 || !argsE.value.every((a) => typeof a === 'string')) {
      return new WatchProblem(argsE.key, 'must be a non-empty list of strings (the command and its arguments)');
    }
    return { kind: 'script', args: argsE.value as string[] };
  }
  if (handlerText) return { kind: 'script', args: ['/bin/sh', '-c', handlerText] };
  return new WatchProblem('handler', 'a watch in a config file needs a handler (handler = "cmd", args = [...], or handler_type = "http")');
}
