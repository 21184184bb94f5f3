// core/catalog/prepared-query.ts — Consul's prepared queries: the stored record, its stateless
// rules, templates (name_prefix_match, an optional regexp, ${…} interpolation), resolving an ID
// or a name to a query, and running one against the catalog.
//
// Owns: the PreparedQuery shape (Consul's field names and order), the checks Consul makes
// before storing one ("Invalid prepared query: …", "failed compiling template: …"), template
// rendering, the ID → exact name → longest-prefix template resolution, and the execute filter
// (critical checks out, warning too with OnlyPassing, IgnoreCheckIDs skipped, node and service
// meta, tags with `!tag` exclusions).
// Must never: touch catalog state (fsm.ts stores queries and hands reads to these functions),
// shuffle or sort by distance (randomness is the agent's: the HTTP and DNS layers shuffle), or
// throw on bad input: every problem comes back as Consul's error text.
//
// Failover to other datacenters is stored and returned as given; with one datacenter there is
// nowhere to fail over to, so execute reports Failovers 0 (federation work will use it).
import { parseGoDuration } from '../http/duration.ts';
import type { PreparedQuery, PreparedQueryDef, RaftIndexes, ServiceInstance, ServiceQuery } from './types.ts';

export type { PreparedQuery, PreparedQueryDef, PreparedQueryExecution, QueryFailover, QueryTemplate, ServiceQuery } from './types.ts';

export const TEMPLATE_NAME_PREFIX_MATCH = 'name_prefix_match';

/** Consul's ErrQueryNotFound and ErrMissingQueryID texts (clients and the HTTP layer match them). */
export const ERR_QUERY_NOT_FOUND = 'Query not found';
export const ERR_MISSING_QUERY_ID = 'Missing query ID';
export const errNonExistentQuery = (id: string): string => `Cannot modify non-existent prepared query: '${id}'`;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const looksLikeUuid = (s: string): boolean => UUID_RE.test(s);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStrMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((x) => typeof x === 'string');

const sortedMap = (m: Record<string, string> | null): Record<string, string> | null => {
  if (m === null) return null;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
};

/** A record with every field present, in Consul's order, arrays and maps copied. */
export function makePreparedQuery(d: PreparedQueryDef, ix: RaftIndexes): PreparedQuery {
  const s = d.Service;
  return {
    ID: d.ID,
    Name: d.Name,
    Session: d.Session,
    Token: d.Token,
    Template: { Type: d.Template.Type, Regexp: d.Template.Regexp, RemoveEmptyTags: d.Template.RemoveEmptyTags },
    Service: {
      Service: s.Service,
      Failover: { NearestN: s.Failover.NearestN, Datacenters: s.Failover.Datacenters && [...s.Failover.Datacenters] },
      OnlyPassing: s.OnlyPassing,
      IgnoreCheckIDs: s.IgnoreCheckIDs && [...s.IgnoreCheckIDs],
      Near: s.Near,
      Tags: s.Tags && [...s.Tags],
      NodeMeta: sortedMap(s.NodeMeta),
      ServiceMeta: sortedMap(s.ServiceMeta),
      Connect: s.Connect,
    },
    DNS: { TTL: d.DNS.TTL },
    CreateIndex: ix.CreateIndex,
    ModifyIndex: ix.ModifyIndex,
  };
}

// ------------------------------------------------------------------ shape

/** Where a value does not have the shape of a PreparedQueryDef (log entries and snapshots are
 *  bytes from elsewhere), or null. `where` prefixes the field path in the message. */
export function preparedQueryShapeProblem(v: unknown, where: string): string | null {
  const bad = (f: string, want: string) => `${where}.${f} must be ${want}`;
  if (!isObj(v)) return `${where} must be an object`;
  for (const f of ['ID', 'Name', 'Session', 'Token']) if (typeof v[f] !== 'string') return bad(f, 'a string');
  const t = v['Template'];
  if (!isObj(t) || typeof t['Type'] !== 'string' || typeof t['Regexp'] !== 'string' || typeof t['RemoveEmptyTags'] !== 'boolean') {
    return bad('Template', 'an object {Type, Regexp: strings; RemoveEmptyTags: boolean}');
  }
  const s = v['Service'];
  if (!isObj(s)) return bad('Service', 'an object');
  for (const f of ['Service', 'Near']) if (typeof s[f] !== 'string') return bad(`Service.${f}`, 'a string');
  for (const f of ['OnlyPassing', 'Connect']) if (typeof s[f] !== 'boolean') return bad(`Service.${f}`, 'a boolean');
  for (const f of ['IgnoreCheckIDs', 'Tags']) if (s[f] !== null && !isStrArr(s[f])) return bad(`Service.${f}`, 'a list of strings or null');
  for (const f of ['NodeMeta', 'ServiceMeta']) if (s[f] !== null && !isStrMap(s[f])) return bad(`Service.${f}`, 'an object of strings or null');
  const fo = s['Failover'];
  if (!isObj(fo) || typeof fo['NearestN'] !== 'number' || !Number.isSafeInteger(fo['NearestN'])) return bad('Service.Failover.NearestN', 'an integer');
  if (fo['Datacenters'] !== null && !isStrArr(fo['Datacenters'])) return bad('Service.Failover.Datacenters', 'a list of strings or null');
  const dns = v['DNS'];
  if (!isObj(dns) || typeof dns['TTL'] !== 'string') return bad('DNS.TTL', 'a string');
  return null;
}

// ------------------------------------------------------------------ Consul's rules

const META_KEY_RE = /^[a-zA-Z0-9_-]+$/;
const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;

/** Consul's ValidateNodeMetadata / ValidateServiceMetadata (reserved prefixes allowed in queries). */
function metaProblem(meta: Record<string, string> | null, what: string): string | null {
  if (meta === null) return null;
  const keys = Object.keys(meta);
  if (keys.length > META_MAX_PAIRS) return `${what} cannot contain more than ${META_MAX_PAIRS} key/value pairs`;
  for (const k of keys.sort()) {
    if (k === '') return 'Key cannot be blank';
    if (!META_KEY_RE.test(k)) return `Key contains invalid characters: ${k}`;
    if (k.length > META_KEY_MAX) return `Key is too long (limit: ${META_KEY_MAX} characters)`;
    if (meta[k]!.length > META_VALUE_MAX) return `Value is too long (limit: ${META_VALUE_MAX} characters)`;
  }
  return null;
}

/** Go's time.ParseDuration error text for a string that is not a duration. */
const goDurationError = (s: string): string => `time: invalid duration ${JSON.stringify(s)}`;

/** Consul's parseQuery (service and DNS parts), then the template compile its state store runs:
 *  the text of the first problem, or null. */
export function preparedQueryProblem(d: PreparedQueryDef): string | null {
  const s = d.Service;
  const invalid = (m: string) => `Invalid prepared query: ${m}`;
  if (s.Service === '') return invalid('Must provide a Service name to query');
  if (s.Failover.NearestN < 0) return invalid(`Bad NearestN '${s.Failover.NearestN}', must be >= 0`);
  const meta = metaProblem(s.NodeMeta, 'Node metadata') ?? metaProblem(s.ServiceMeta, 'Service metadata');
  if (meta) return invalid(meta);
  if (d.DNS.TTL !== '') {
    const negative = d.DNS.TTL.trim().startsWith('-');
    const ms = parseGoDuration(negative ? d.DNS.TTL.trim().slice(1) : d.DNS.TTL);
    if (ms === null) return invalid(`Bad DNS TTL '${d.DNS.TTL}': ${goDurationError(d.DNS.TTL)}`);
    if (negative && ms > 0) return invalid(`DNS TTL '${-BigInt(Math.round(ms * 1e6))}', must be >=0`);
  }
  if (d.Template.Type !== '') {
    const t = compileTemplate(d);
    if (!t.ok) return `failed compiling template: ${t.error}`;
  }
  return null;
}

// ------------------------------------------------------------------ templates

type Piece = { text: string } | { expr: string };

class TemplateError {
  constructor(readonly message: string) {}
}

/** HIL's literal/interpolation split: `${expr}` interpolates, `$${` is a literal `${`. */
function splitInterpolation(s: string, path: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      lit += '${';
      i += 3;
      continue;
    }
    if (s.startsWith('${', i)) {
      const close = s.indexOf('}', i + 2);
      if (close < 0) throw new TemplateError(`Bad format '${s}' in Service${path}: unterminated interpolation "\${" at offset ${i}`);
      if (lit !== '') out.push({ text: lit });
      lit = '';
      out.push({ expr: s.slice(i + 2, close).trim() });
      i = close + 1;
      continue;
    }
    lit += s[i];
    i++;
  }
  if (lit !== '' || out.length === 0) out.push({ text: lit });
  return out;
}

const VARIABLE_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const MATCH_RE = /^match\(\s*(-?\d+)\s*\)$/;
const KNOWN_VARIABLES = new Set(['name.full', 'name.prefix', 'name.suffix', 'agent.segment']);

function checkExpr(expr: string, s: string, path: string): void {
  if (MATCH_RE.test(expr) || KNOWN_VARIABLES.has(expr)) return;
  if (VARIABLE_RE.test(expr)) throw new TemplateError(`Bad evaluation for '${s}' in Service${path}: unknown variable accessed: ${expr}`);
  throw new TemplateError(`Bad format '${s}' in Service${path}: cannot parse '${expr}' (use name.full, name.prefix, name.suffix, agent.segment or match(N))`);
}

/** Every interpolated string of the Service part, with its Go-style path (".Tags[0]"). */
function serviceStrings(s: ServiceQuery): Array<{ path: string; get: () => string; set: (v: string) => void }> {
  const out: Array<{ path: string; get: () => string; set: (v: string) => void }> = [];
  out.push({ path: '.Service', get: () => s.Service, set: (v) => (s.Service = v) });
  s.Failover.Datacenters?.forEach((_, i) =>
    out.push({ path: `.Failover.Datacenters[${i}]`, get: () => s.Failover.Datacenters![i]!, set: (v) => (s.Failover.Datacenters![i] = v) }),
  );
  s.IgnoreCheckIDs?.forEach((_, i) => out.push({ path: `.IgnoreCheckIDs[${i}]`, get: () => s.IgnoreCheckIDs![i]!, set: (v) => (s.IgnoreCheckIDs![i] = v) }));
  out.push({ path: '.Near', get: () => s.Near, set: (v) => (s.Near = v) });
  s.Tags?.forEach((_, i) => out.push({ path: `.Tags[${i}]`, get: () => s.Tags![i]!, set: (v) => (s.Tags![i] = v) }));
  for (const field of ['NodeMeta', 'ServiceMeta'] as const) {
    const m = s[field];
    if (!m) continue;
    for (const k of Object.keys(m)) out.push({ path: `.${field}[${k}]`, get: () => m[k]!, set: (v) => (m[k] = v) });
  }
  return out;
}

/** Go regexp syntax → a JS RegExp: `(?P<name>` groups and leading `(?i)`/`(?s)`/`(?m)` flags. */
function goRegexp(src: string): RegExp {
  let flags = '';
  let body = src;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new SyntaxError('the ungreedy flag (?U) is not supported');
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(lead[0].length);
  }
  return new RegExp(body.replace(/\(\?P</g, '(?<'), flags);
}

interface CompiledTemplate {
  re: RegExp | null;
}

/** Consul's Compile: the type, the regexp, every Service string, then a test render with the
 *  template's own name (catches errors at registration rather than at lookup). */
export function compileTemplate(d: PreparedQueryDef): { ok: true } | { ok: false; error: string } {
  try {
    renderService(d, d.Name, '');
    return { ok: true };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, error: e.message };
    throw e;
  }
}

function compile(d: PreparedQueryDef): CompiledTemplate {
  if (d.Template.Type !== TEMPLATE_NAME_PREFIX_MATCH) throw new TemplateError(`Bad Template.Type '${d.Template.Type}'`);
  let re: RegExp | null = null;
  if (d.Template.Regexp !== '') {
    try {
      re = goRegexp(d.Template.Regexp);
    } catch (e) {
      throw new TemplateError(`Bad Regexp: ${(e as Error).message}`);
    }
  }
  for (const f of serviceStrings(d.Service)) {
    const s = f.get();
    for (const p of splitInterpolation(s, f.path)) if ('expr' in p) checkExpr(p.expr, s, f.path);
  }
  return { re };
}

/** The Service part of a template, interpolated for `name` (a copy; the template is unchanged). */
function renderService(q: PreparedQueryDef, name: string, segment: string): ServiceQuery {
  const { re } = compile(q);
  const matches = re ? re.exec(name) : null;
  const vars: Record<string, string> = {
    'name.full': name,
    'name.prefix': q.Name,
    'name.suffix': name.startsWith(q.Name) ? name.slice(q.Name.length) : name,
    'agent.segment': segment,
  };
  // Consul's match() never fails at run time: anything out of range is ''.
  const evalExpr = (expr: string): string => {
    const m = MATCH_RE.exec(expr);
    if (m) {
      const i = Number(m[1]);
      return matches && i >= 0 && i < matches.length ? (matches[i] ?? '') : '';
    }
    return vars[expr]!;
  };
  const out = makePreparedQuery(q, { CreateIndex: 0, ModifyIndex: 0 }).Service;
  for (const f of serviceStrings(out)) {
    const s = f.get();
    f.set(splitInterpolation(s, f.path).map((p) => ('text' in p ? p.text : evalExpr(p.expr))).join(''));
  }
  if (q.Template.RemoveEmptyTags && out.Tags) out.Tags = out.Tags.filter((t) => t !== '');
  return out;
}

/** The query to run for `name`: a template rendered for it, any other query as stored. */
export function renderFor(q: PreparedQuery, name: string, segment = ''): { ok: true; query: PreparedQuery } | { ok: false; error: string } {
  if (q.Template.Type === '') return { ok: true, query: q };
  try {
    return { ok: true, query: { ...q, Service: renderService(q, name, segment) } };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, error: e.message };
    throw e;
  }
}

// ------------------------------------------------------------------ resolve

/**
 * Consul's PreparedQueryResolve: an ID first (when it looks like one), then the query whose
 * name is the longest prefix of the input (names compared lowercased, as Consul's index does);
 * that one answers if its name is exactly the input or it is a template. `queries` in ID order.
 */
export function resolvePreparedQuery(queries: readonly PreparedQuery[], idOrName: string): PreparedQuery | null {
  if (looksLikeUuid(idOrName)) {
    const id = idOrName.toLowerCase();
    const byId = queries.find((q) => q.ID.toLowerCase() === id);
    if (byId) return byId;
  }
  const want = idOrName.toLowerCase();
  let best: PreparedQuery | null = null;
  for (const q of queries) {
    const n = q.Name.toLowerCase();
    // Unnamed plain queries are reachable by ID only (Consul's name index skips empty names).
    if (n === '' && q.Template.Type === '') continue;
    if (!want.startsWith(n)) continue;
    if (!best || n.length > best.Name.length) best = q;
  }
  if (best && (best.Name === idOrName || best.Template.Type !== '')) return best;
  return null;
}

// ------------------------------------------------------------------ execute

/** Consul's tagFilter: every tag must be present, `!tag` must be absent (case-insensitive). */
function tagsMatch(tags: readonly string[], want: readonly string[]): boolean {
  const have = new Set(tags.map((t) => t.toLowerCase()));
  for (const raw of want) {
    const t = raw.toLowerCase();
    if (t.startsWith('!') ? have.has(t.slice(1)) : !have.has(t)) return false;
  }
  return true;
}

/** The instances a (rendered) query returns, in catalog order: no critical check (nor a
 *  warning one with OnlyPassing) apart from IgnoreCheckIDs, node and service meta equal, tags
 *  as tagsMatch. Shuffling, the near sort and ?limit are the caller's. */
export function filterInstances(q: PreparedQuery, instances: readonly ServiceInstance[]): ServiceInstance[] {
  const s = q.Service;
  const ignored = new Set(s.IgnoreCheckIDs ?? []);
  return instances.filter((inst) => {
    for (const c of inst.Checks) {
      if (ignored.has(c.CheckID)) continue;
      if (c.Status === 'critical' || (s.OnlyPassing && c.Status === 'warning')) return false;
    }
    for (const [k, v] of Object.entries(s.NodeMeta ?? {})) if (inst.Node.Meta[k] !== v) return false;
    for (const [k, v] of Object.entries(s.ServiceMeta ?? {})) if (inst.Service.Meta[k] !== v) return false;
    return tagsMatch(inst.Service.Tags, s.Tags ?? []);
  });
}
