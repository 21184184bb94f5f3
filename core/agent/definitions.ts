// core/agent/definitions.ts — service and check definitions: parsed, validated, defaulted.
//
// Owns: turning a service/check body of a config file (plain data from core/config/, which
// parses JSON and HCL and knows positions) and HTTP registration bodies (CamelCase or
// snake_case) into ServiceDefinition / CheckDefinition records with Consul's
// defaults (id = name, initial status critical, HTTP/TCP timeout min(interval, 10s), service
// check ids `service:<id>[:<n>]`), or into one DefinitionError that names the file, the
// field and the reason.
// Must never: read files, touch the clock, or run checks; the agent does that with the result.
//
// Keys are matched case-insensitively with underscores ignored (so `service_id`, `ServiceID`
// and `serviceid` are one key), which is how Consul's decoder treats them. Config files are
// strict about unknown keys inside a service or check (a typo must not silently drop a
// check); HTTP bodies ignore unknown keys, as Consul does, because clients send newer fields.
import type { HealthStatus } from '../catalog/types.ts';
import { parseGoDuration } from '../http/duration.ts';

export type CheckProbe =
  | {
      type: 'http';
      url: string;
      method: string;
      header: Record<string, string[]>;
      tlsSkipVerify: boolean;
      intervalMs: number;
      timeoutMs: number;
    }
  | { type: 'tcp'; address: string; intervalMs: number; timeoutMs: number }
  /** argv to execute; a legacy `script` string becomes ['/bin/sh', '-c', script]. */
  | { type: 'script'; args: string[]; intervalMs: number; timeoutMs: number }
  | { type: 'ttl'; ttlMs: number };

export interface CheckDefinition {
  id: string;
  name: string;
  notes: string;
  /** '' for a node-level check. */
  serviceId: string;
  /** Initial status (Consul's default: critical). */
  status: HealthStatus;
  probe: CheckProbe;
  /** 0 = never deregister. */
  deregisterCriticalServiceAfterMs: number;
}

export interface ServiceDefinition {
  id: string;
  name: string;
  tags: string[];
  /** '' ⇒ the node's address is used by DNS. */
  address: string;
  port: number;
  meta: Record<string, string>;
  enableTagOverride: boolean;
  weights: { passing: number; warning: number };
  checks: CheckDefinition[];
}


export class DefinitionError extends Error {
  constructor(
    /** File name for config files, '' for an HTTP body. */
    readonly where: string,
    /** Field path as the input spelled it, e.g. 'service.checks[0].interval'. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${where ? `${where}: ` : ''}${field ? `${field}: ` : ''}${reason}`);
    this.name = 'DefinitionError';
  }
}

const MIN_INTERVAL_MS = 1000;
const MAX_NET_TIMEOUT_MS = 10_000;
const SCRIPT_TIMEOUT_MS = 30_000;
const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;

type Mode = 'config' | 'api';

/** Normalised key → canonical field. Several spellings may map to one field. */
const SERVICE_KEYS: Record<string, string> = {
  id: 'id',
  name: 'name',
  tags: 'tags',
  address: 'address',
  port: 'port',
  meta: 'meta',
  enabletagoverride: 'enableTagOverride',
  weights: 'weights',
  check: 'check',
  checks: 'checks',
  // Accepted and ignored: ACL tokens, Connect, tagged addresses (later Consul features).
  token: '',
  kind: '',
  proxy: '',
  connect: '',
  taggedaddresses: '',
  namespace: '',
  partition: '',
  locality: '',
};

const CHECK_KEYS: Record<string, string> = {
  id: 'id',
  checkid: 'id',
  name: 'name',
  notes: 'notes',
  serviceid: 'serviceId',
  status: 'status',
  http: 'http',
  method: 'method',
  header: 'header',
  tlsskipverify: 'tlsSkipVerify',
  tcp: 'tcp',
  ttl: 'ttl',
  script: 'script',
  args: 'args',
  interval: 'interval',
  timeout: 'timeout',
  deregistercriticalserviceafter: 'deregisterCriticalServiceAfter',
  // Accepted and ignored.
  token: '',
  tlsservername: '',
  outputmaxsize: '',
  successbeforepassing: '',
  failuresbeforecritical: '',
  failuresbeforewarning: '',
  namespace: '',
  partition: '',
  type: '',
  definition: '',
  // Known check kinds Muster does not run: refused with a clear reason.
  grpc: 'unsupported',
  grpcusetls: '',
  dockercontainerid: 'unsupported',
  shell: '',
  aliasnode: 'unsupported',
  aliasservice: 'unsupported',
  h2ping: 'unsupported',
  udp: 'unsupported',
  osservice: 'unsupported',
};

const norm = (k: string): string => k.toLowerCase().replace(/_/g, '');

class Ctx {
  readonly warnings: string[] = [];
  constructor(
    readonly where: string,
    readonly mode: Mode,
  ) {}
  fail(field: string, reason: string): never {
    throw new DefinitionError(this.where, field, reason);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Pick the object's fields by canonical name, remembering how each was spelled. */
function fields(
  ctx: Ctx,
  obj: Record<string, unknown>,
  path: string,
  table: Record<string, string>,
  what: string,
): Map<string, { key: string; value: unknown }> {
  const out = new Map<string, { key: string; value: unknown }>();
  for (const key of Object.keys(obj)) {
    const canon = table[norm(key)];
    const at = path ? `${path}.${key}` : key;
    if (canon === undefined) {
      if (ctx.mode === 'config') {
        const known = [...new Set(Object.entries(table).filter(([, c]) => c && c !== 'unsupported').map(([, c]) => snake(c)))];
        ctx.fail(at, `unknown ${what} field (known: ${known.join(', ')})`);
      }
      continue;
    }
    if (canon === '') continue;
    if (canon === 'unsupported') ctx.fail(at, `${key} checks are not supported by Muster (use http, tcp, ttl or script/args)`);
    if (out.has(canon)) ctx.fail(at, `set twice (also as ${out.get(canon)!.key})`);
    out.set(canon, { key, value: obj[key] });
  }
  return out;
}

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function str(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, canon: string, path: string, dflt: string): string {
  const e = f.get(canon);
  if (!e || e.value === null) return dflt;
  if (typeof e.value !== 'string') ctx.fail(join(path, e.key), `must be a string, got ${describe(e.value)}`);
  return e.value;
}

function bool(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, canon: string, path: string): boolean {
  const e = f.get(canon);
  if (!e || e.value === null) return false;
  if (typeof e.value !== 'boolean') ctx.fail(join(path, e.key), `must be true or false, got ${describe(e.value)}`);
  return e.value;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** A duration field: a Go duration string; the HTTP API also takes a number of nanoseconds. */
function duration(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, canon: string, path: string): number | null {
  const e = f.get(canon);
  if (!e || e.value === null || e.value === '') return null;
  const at = join(path, e.key);
  if (typeof e.value === 'number' && ctx.mode === 'api') {
    if (!(e.value >= 0)) ctx.fail(at, `must not be negative, got ${e.value}`);
    return e.value / 1e6;
  }
  if (typeof e.value !== 'string') ctx.fail(at, `must be a duration string like "10s", got ${describe(e.value)}`);
  const ms = parseGoDuration(e.value);
  if (ms === null) ctx.fail(at, `${JSON.stringify(e.value)} is not a duration (use e.g. "10s")`);
  return ms;
}

function parseTags(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, path: string): string[] {
  const e = f.get('tags');
  if (!e || e.value === null) return [];
  const at = join(path, e.key);
  if (!Array.isArray(e.value)) ctx.fail(at, `must be a list of strings, got ${describe(e.value)}`);
  return e.value.map((t, i) => {
    if (typeof t !== 'string') ctx.fail(`${at}[${i}]`, `must be a string, got ${describe(t)}`);
    return t;
  });
}

function parseMeta(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, path: string): Record<string, string> {
  const e = f.get('meta');
  if (!e || e.value === null) return {};
  const at = join(path, e.key);
  if (!isObject(e.value)) ctx.fail(at, `must be an object of string values, got ${describe(e.value)}`);
  const keys = Object.keys(e.value);
  if (keys.length > META_MAX_PAIRS) ctx.fail(at, `has ${keys.length} pairs, at most ${META_MAX_PAIRS} are allowed`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = e.value[k];
    if (!/^[A-Za-z0-9_-]+$/.test(k)) ctx.fail(`${at}.${k}`, 'meta keys may contain only letters, digits, "_" and "-"');
    if (k.length > META_KEY_MAX) ctx.fail(`${at}.${k}`, `meta key longer than ${META_KEY_MAX} characters`);
    if (typeof v !== 'string') ctx.fail(`${at}.${k}`, `must be a string, got ${describe(v)}`);
    if (v.length > META_VALUE_MAX) ctx.fail(`${at}.${k}`, `meta value longer than ${META_VALUE_MAX} characters`);
    out[k] = v;
  }
  return out;
}

function parsePort(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, path: string): number {
  const e = f.get('port');
  if (!e || e.value === null) return 0;
  const v = e.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    ctx.fail(join(path, e.key), `must be a whole number 0-65535, got ${describe(v)}`);
  }
  return v;
}

function parseWeights(
  ctx: Ctx,
  f: Map<string, { key: string; value: unknown }>,
  path: string,
): { passing: number; warning: number } {
  const e = f.get('weights');
  if (!e || e.value === null) return { passing: 1, warning: 1 };
  const at = join(path, e.key);
  if (!isObject(e.value)) ctx.fail(at, `must be an object like {"passing": 1, "warning": 1}, got ${describe(e.value)}`);
  const out = { passing: 1, warning: 1 };
  for (const k of Object.keys(e.value)) {
    const n = norm(k);
    const v = e.value[k];
    if (n !== 'passing' && n !== 'warning') {
      if (ctx.mode === 'config') ctx.fail(`${at}.${k}`, 'unknown weights field (known: passing, warning)');
      continue;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
      ctx.fail(`${at}.${k}`, `must be a whole number 0-65535, got ${describe(v)}`);
    }
    out[n] = v;
  }
  if (out.passing < 1) ctx.fail(`${at}`, 'passing weight must be at least 1');
  return out;
}

function parseHeader(ctx: Ctx, f: Map<string, { key: string; value: unknown }>, path: string): Record<string, string[]> {
  const e = f.get('header');
  if (!e || e.value === null) return {};
  const at = join(path, e.key);
  if (!isObject(e.value)) ctx.fail(at, `must be an object of string lists, got ${describe(e.value)}`);
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(e.value)) {
    const v = e.value[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      ctx.fail(`${at}.${k}`, `must be a list of strings like ["value"], got ${describe(v)}`);
    }
    out[k] = v as string[];
  }
  return out;
}

const STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical'];

interface CheckDefaults {
  id: string;
  name: string;
  serviceId: string;
}

function parseCheck(ctx: Ctx, raw: unknown, path: string, defaults: CheckDefaults | null): CheckDefinition {
  if (!isObject(raw)) ctx.fail(path, `must be an object, got ${describe(raw)}`);
  const f = fields(ctx, raw, path, CHECK_KEYS, 'check');

  const kinds = ['http', 'tcp', 'ttl', 'script', 'args'].filter((k) => {
    const e = f.get(k);
    return e !== undefined && e.value !== null && e.value !== '' && !(Array.isArray(e.value) && e.value.length === 0);
  });
  const spelled = (k: string): string => f.get(k)!.key;
  if (kinds.length === 0) ctx.fail(path, 'must set one of http, tcp, ttl or script/args');
  if (kinds.length > 1) {
    ctx.fail(path, `sets ${kinds.map(spelled).join(' and ')}; a check has exactly one of http, tcp, ttl or script/args`);
  }
  const kind = kinds[0]!;

  let name = str(ctx, f, 'name', path, '');
  let id = str(ctx, f, 'id', path, '');
  let serviceId = str(ctx, f, 'serviceId', path, '');
  if (defaults) {
    if (!id) id = defaults.id;
    if (!name) name = defaults.name;
    serviceId = defaults.serviceId;
  } else {
    if (!name) ctx.fail(join(path, 'name'), 'required (a check needs a name)');
    if (!id) id = name;
  }

  const statusText = str(ctx, f, 'status', path, '');
  if (statusText && !STATUSES.includes(statusText as HealthStatus)) {
    ctx.fail(join(path, f.get('status')!.key), `${JSON.stringify(statusText)} is not a status (use passing, warning or critical)`);
  }
  const status: HealthStatus = (statusText as HealthStatus) || 'critical';

  const interval = duration(ctx, f, 'interval', path);
  const timeout = duration(ctx, f, 'timeout', path);
  const deregisterAfter = duration(ctx, f, 'deregisterCriticalServiceAfter', path) ?? 0;

  const needInterval = (): number => {
    if (interval === null) {
      ctx.fail(join(path, 'interval'), `required for ${spelled(kind)} checks (e.g. "interval": "10s")`);
    }
    if (interval < MIN_INTERVAL_MS) {
      ctx.warnings.push(
        `${ctx.where ? `${ctx.where}: ` : ''}check '${id}' has interval below minimum of 1s; using 1s`,
      );
      return MIN_INTERVAL_MS;
    }
    return interval;
  };
  const positive = (ms: number | null, key: string): number | null => {
    if (ms !== null && ms <= 0) ctx.fail(join(path, f.get(key)!.key), 'must be greater than zero');
    return ms;
  };

  let probe: CheckProbe;
  switch (kind) {
    case 'http': {
      const url = str(ctx, f, 'http', path, '');
      if (!/^https?:\/\/[^/\s]+/i.test(url)) {
        ctx.fail(join(path, spelled('http')), `${JSON.stringify(url)} is not an http:// or https:// URL`);
      }
      const intervalMs = needInterval();
      probe = {
        type: 'http',
        url,
        method: (str(ctx, f, 'method', path, '') || 'GET').toUpperCase(),
        header: parseHeader(ctx, f, path),
        tlsSkipVerify: bool(ctx, f, 'tlsSkipVerify', path),
        intervalMs,
        timeoutMs: positive(timeout, 'timeout') ?? Math.min(intervalMs, MAX_NET_TIMEOUT_MS),
      };
      break;
    }
    case 'tcp': {
      const address = str(ctx, f, 'tcp', path, '');
      if (!/^[^\s:]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
        ctx.fail(join(path, spelled('tcp')), `${JSON.stringify(address)} is not host:port`);
      }
      const intervalMs = needInterval();
      probe = {
        type: 'tcp',
        address,
        intervalMs,
        timeoutMs: positive(timeout, 'timeout') ?? Math.min(intervalMs, MAX_NET_TIMEOUT_MS),
      };
      break;
    }
    case 'ttl': {
      const ttl = duration(ctx, f, 'ttl', path);
      if (ttl === null || ttl <= 0) ctx.fail(join(path, spelled('ttl')), 'must be a duration greater than zero (e.g. "15s")');
      probe = { type: 'ttl', ttlMs: ttl };
      break;
    }
    default: {
      let args: string[];
      if (kind === 'script') {
        args = ['/bin/sh', '-c', str(ctx, f, 'script', path, '')];
      } else {
        const e = f.get('args')!;
        if (!Array.isArray(e.value) || e.value.some((a) => typeof a !== 'string')) {
          ctx.fail(join(path, e.key), `must be a list of strings (the command and its arguments), got ${describe(e.value)}`);
        }
        args = e.value as string[];
      }
      probe = { type: 'script', args, intervalMs: needInterval(), timeoutMs: positive(timeout, 'timeout') ?? SCRIPT_TIMEOUT_MS };
    }
  }

  return {
    id,
    name,
    notes: str(ctx, f, 'notes', path, ''),
    serviceId,
    status,
    probe,
    deregisterCriticalServiceAfterMs: deregisterAfter,
  };
}

function parseService(ctx: Ctx, raw: unknown, path: string): ServiceDefinition {
  if (!isObject(raw)) ctx.fail(path, `must be an object, got ${describe(raw)}`);
  const f = fields(ctx, raw, path, SERVICE_KEYS, 'service');
  const name = str(ctx, f, 'name', path, '');
  if (!name) ctx.fail(join(path, f.get('name')?.key ?? 'name'), 'required (a service needs a name)');
  const id = str(ctx, f, 'id', path, '') || name;

  const rawChecks: Array<{ at: string; value: unknown }> = [];
  const one = f.get('check');
  if (one && one.value !== null) {
    // Repeated HCL `check { … }` blocks arrive as a list: each is one check.
    if (Array.isArray(one.value)) one.value.forEach((c, i) => rawChecks.push({ at: `${join(path, one.key)}[${i}]`, value: c }));
    else rawChecks.push({ at: join(path, one.key), value: one.value });
  }
  const many = f.get('checks');
  if (many && many.value !== null) {
    if (!Array.isArray(many.value)) ctx.fail(join(path, many.key), `must be a list of checks, got ${describe(many.value)}`);
    many.value.forEach((c, i) => rawChecks.push({ at: `${join(path, many.key)}[${i}]`, value: c }));
  }
  const checks = rawChecks.map(({ at, value }, i) =>
    parseCheck(ctx, value, at, {
      id: rawChecks.length === 1 ? `service:${id}` : `service:${id}:${i + 1}`,
      name: `Service '${name}' check`,
      serviceId: id,
    }),
  );
  duplicates(ctx, checks.map((c, i) => ({ id: c.id, at: rawChecks[i]!.at })), 'check id');

  return {
    id,
    name,
    tags: parseTags(ctx, f, path),
    address: str(ctx, f, 'address', path, ''),
    port: parsePort(ctx, f, path),
    meta: parseMeta(ctx, f, path),
    enableTagOverride: bool(ctx, f, 'enableTagOverride', path),
    weights: parseWeights(ctx, f, path),
    checks,
  };
}

function duplicates(ctx: Ctx, items: Array<{ id: string; at: string }>, what: string): void {
  const seen = new Map<string, string>();
  for (const { id, at } of items) {
    const prev = seen.get(id);
    if (prev !== undefined) ctx.fail(at, `duplicate ${what} ${JSON.stringify(id)} (also at ${prev})`);
    seen.set(id, at);
  }
}

/** One service of a config file (plain data; `path` is how the file spelled its place, for errors). */
export function parseConfigService(where: string, raw: unknown, path: string): { def: ServiceDefinition; warnings: string[] } {
  const ctx: Ctx = new Ctx(where, 'config');
  const def = parseService(ctx, raw, path);
  return { def, warnings: ctx.warnings };
}

/** One node-level check of a config file (plain data). */
export function parseConfigCheck(where: string, raw: unknown, path: string): { def: CheckDefinition; warnings: string[] } {
  const ctx: Ctx = new Ctx(where, 'config');
  const def = parseCheck(ctx, raw, path, null);
  return { def, warnings: ctx.warnings };
}

/** Body of PUT /v1/agent/service/register (already JSON-decoded). */
export function parseServiceRegistration(json: unknown): { def: ServiceDefinition; warnings: string[] } {
  const ctx: Ctx = new Ctx('', 'api');
  const def = parseService(ctx, json, '');
  return { def, warnings: ctx.warnings };
}

/** Body of PUT /v1/agent/check/register (already JSON-decoded). */
export function parseCheckRegistration(json: unknown): { def: CheckDefinition; warnings: string[] } {
  const ctx: Ctx = new Ctx('', 'api');
  const def = parseCheck(ctx, json, '', null);
  return { def, warnings: ctx.warnings };
}
