// cli/commands/common.ts — what every Consul-compatible command shares: the CliIo it talks
// through, Go-style flag parsing, the agent address (-http-addr / CONSUL_HTTP_ADDR),
// columnize-style tables, and calling the agent with Consul's error wording.
// Must never: print directly to process streams (commands run in the simulator too).
import { ConnectionError, type HttpClient, type HttpClientResponse } from '../http-client.ts';

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  http: HttpClient;
  /** `kv put KEY @file`. Absent ⇒ the command says files are unavailable here. */
  readFile?(path: string): Promise<Uint8Array>;
  /** `snapshot save FILE`, `kv export` to a file. Absent ⇒ the command says files are unavailable here. */
  writeFile?(path: string, data: Uint8Array): Promise<void>;
  /** `kv put KEY -`. */
  readStdin?(): Promise<Uint8Array>;
  /** `watch … <handler>`: run the handler with JSON on stdin and extra env; resolves to its exit code. */
  runHandler?(command: string, stdin: string, env: Record<string, string>): Promise<number>;
  /** Pause between polls (monitor, lock); resolves early once `signal` aborts. Default: a real timer. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>;
  /** `lock … child`: start the child. Absent ⇒ lock says children cannot run here. */
  startChild?(argv: string[], opts: { shell: boolean; passStdin: boolean }): ChildHandle;
  /** Calls `handler` when this command is asked to stop (SIGINT/SIGTERM); returns the unsubscribe. */
  onShutdown?(handler: () => void): () => void;
}

/** A child process a command started (`consul lock`). */
export interface ChildHandle {
  pid: number;
  /** Resolves when it ends: its exit code, or the signal that ended it, or why it never started. */
  exited: Promise<{ code: number | null; signal: string | null; error?: string }>;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

/** io.sleep, else a real timer; either way it ends early when `signal` aborts. */
export function sleeper(io: CliIo): (ms: number, signal?: AbortSignal) => Promise<void> {
  if (io.sleep) return (ms, signal) => io.sleep!(ms, signal);
  return (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

export type Command = (args: string[], io: CliIo) => Promise<number>;

export const DEFAULT_HTTP_ADDR = '127.0.0.1:8500';

type FlagSpec = Record<string, 'bool' | 'string'>;

export class UsageError extends Error {}

/**
 * Go's flag package: `-f`, `--f`, `-f=v`, `-f v` (strings), `-b` / `-b=false` (bools);
 * parsing stops at the first non-flag argument or at `--`.
 */
export function parseFlags(args: string[], spec: FlagSpec): { flags: Record<string, string | boolean>; rest: string[] } {
  const full: FlagSpec = { 'http-addr': 'string', token: 'string', datacenter: 'string', stale: 'bool', ...TLS_FLAGS, ...spec };
  const flags: Record<string, string | boolean> = {};
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const kind = full[name];
    if (!kind) throw new UsageError(`flag provided but not defined: -${name}`);
    if (kind === 'bool') {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(v)) {
        throw new UsageError(`invalid boolean value "${v}" for -${name}: parse error`);
      }
      flags[name] = ['true', '1', 't', 'TRUE', 'True'].includes(v);
    } else {
      let v: string | undefined = eq >= 0 ? body.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      flags[name] = v;
    }
  }
  return { flags, rest: args.slice(i) };
}

export function str(flags: Record<string, string | boolean>, name: string, dflt = ''): string {
  const v = flags[name];
  return typeof v === 'string' ? v : dflt;
}

export function bool(flags: Record<string, string | boolean>, name: string): boolean {
  return flags[name] === true;
}

/** Consul's TLS flags for talking to an HTTPS agent, and the environment variables they set. */
const TLS_FLAGS: FlagSpec = { 'ca-file': 'string', 'ca-path': 'string', 'client-cert': 'string', 'client-key': 'string', 'tls-server-name': 'string' };
const TLS_ENV: Record<string, string> = {
  'ca-file': 'CONSUL_CACERT',
  'ca-path': 'CONSUL_CAPATH',
  'client-cert': 'CONSUL_CLIENT_CERT',
  'client-key': 'CONSUL_CLIENT_KEY',
  'tls-server-name': 'CONSUL_TLS_SERVER_NAME',
};

/**
 * -http-addr, else CONSUL_HTTP_ADDR, else 127.0.0.1:8500; an http:// scheme is accepted.
 * https:// (or CONSUL_HTTP_SSL=true) gives "https://host:port", which the HTTP client dials
 * with TLS; the TLS flags are handed to it through the environment (CONSUL_CACERT …), as
 * Consul's own CLI reads them, and -token also sets CONSUL_HTTP_TOKEN.
 */
export function httpAddr(flags: Record<string, string | boolean>, env: Record<string, string | undefined>): string {
  let a = str(flags, 'http-addr') || env['CONSUL_HTTP_ADDR'] || DEFAULT_HTTP_ADDR;
  const ssl = a.startsWith('https://') || /^(1|true|t)$/i.test(env['CONSUL_HTTP_SSL'] ?? '');
  for (const [flag, name] of Object.entries(TLS_ENV)) if (str(flags, flag)) env[name] = str(flags, flag);
  a = a.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!a.includes(':')) a += ssl ? ':8501' : ':8500';
  return ssl ? `https://${a}` : a;
}

/** Query string with ?dc=, ?stale and ?token= appended when the common flags ask for them. */
export function commonQuery(flags: Record<string, string | boolean>): string[] {
  const q: string[] = [];
  if (str(flags, 'datacenter')) q.push(`dc=${encodeURIComponent(str(flags, 'datacenter'))}`);
  if (bool(flags, 'stale')) q.push('stale');
  if (str(flags, 'token')) q.push(`token=${encodeURIComponent(str(flags, 'token'))}`);
  return q;
}

export function withQuery(path: string, q: string[]): string {
  return q.length === 0 ? path : `${path}${path.includes('?') ? '&' : '?'}${q.join('&')}`;
}

/** Thrown for an agent answer a command cannot use; message in Go api style. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Unexpected response code: ${status} (${body.trim()})`);
  }
}

export interface ApiResponse extends HttpClientResponse {
  text: string;
}

export async function api(io: CliIo, addr: string, method: string, path: string, body?: Uint8Array): Promise<ApiResponse> {
  const r = await io.http.request(addr, method, path, body);
  return { ...r, text: new TextDecoder().decode(r.body) };
}

/** GET/PUT that must succeed with 200 and a JSON body. */
export async function apiJson(io: CliIo, addr: string, method: string, path: string, body?: Uint8Array): Promise<unknown> {
  const r = await api(io, addr, method, path, body);
  if (r.status !== 200) throw new ApiError(r.status, r.text);
  return r.text === '' ? null : JSON.parse(r.text);
}

/** Run a command body, turning usage and connection errors into Consul-style output. */
export async function guard(io: CliIo, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n${usage.endsWith('\n') ? usage : `${usage}\n`}`);
      return 1;
    }
    // By name too: a simulated HttpClient may throw its own ConnectionError-shaped error.
    if (err instanceof ConnectionError || (err instanceof Error && err.name === 'ConnectionError')) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** ryanuber/columnize: cells padded to the widest in their column, glued by two spaces,
 *  the last column unpadded, trailing spaces trimmed. */
export function columnize(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A command that takes no arguments and makes one PUT (`leave`, `reload`): Consul's messages in. */
export function argumentlessPut(usage: string, path: string, verb: string, success: string): Command {
  return (args, io) =>
    guard(io, usage, async () => {
      const { flags, rest } = parseFlags(args, {});
      if (rest.length > 0) {
        io.stderr(`Error found unexpected args: [${rest.join(' ')}]\n${usage}`);
        return 1;
      }
      const r = await api(io, httpAddr(flags, io.env), 'PUT', path);
      if (r.status !== 200) {
        io.stderr(`Error ${verb}: ${r.text.trim() || `HTTP ${r.status}`}\n`);
        return 1;
      }
      io.stdout(`${success}\n`);
      return 0;
    });
}
