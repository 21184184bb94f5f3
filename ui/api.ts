// ui/api.ts — the browser's HTTP client for the agent's v1 API (same origin).
//
// Owns: fetch calls, turning non-2xx answers into ApiError with Consul's plain-text body,
// reading X-Consul-Index / X-Consul-KnownLeader, and feeding agent-state (leader known or
// not, agent reachable or not) from every answer.
// Must never: loop or retry; ui/live.ts decides when to ask again.
import { reportLeaderKnown, reportNoLeader, reportReachable, reportUnreachable } from './agent-state.ts';
import { isNoLeader } from './model/blocking.ts';

export class ApiError extends Error {
  constructor(
    /** 0 when the agent could not be reached at all. */
    readonly status: number,
    readonly body: string,
    readonly path: string,
  ) {
    super(status === 0 ? `cannot reach the agent (${body})` : `${status} from ${path}: ${body.trim() || '(empty body)'}`);
  }
  get noLeader(): boolean {
    return isNoLeader(this.status, this.body);
  }
}

export interface ApiAnswer<T> {
  value: T;
  status: number;
  index: string | null;
}

async function call(method: string, path: string, body: string | undefined, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { method, body, signal, cache: 'no-store' });
  } catch (err) {
    if (signal?.aborted) throw err;
    const why = err instanceof Error ? err.message : String(err);
    reportUnreachable(why);
    throw new ApiError(0, why, path);
  }
  reportReachable();
  const known = res.headers.get('X-Consul-KnownLeader');
  if (known === 'true') reportLeaderKnown();
  return res;
}

async function fail(res: Response, path: string): Promise<never> {
  const text = await res.text();
  if (isNoLeader(res.status, text)) reportNoLeader();
  throw new ApiError(res.status, text, path);
}

/** GET a JSON value. With allow404, a 404 is a null value (missing KV key, empty listing). */
export async function apiGet<T>(path: string, opts: { signal?: AbortSignal; allow404?: boolean } = {}): Promise<ApiAnswer<T | null>> {
  const res = await call('GET', path, undefined, opts.signal);
  const index = res.headers.get('X-Consul-Index');
  if (res.status === 404 && opts.allow404) {
    await res.text();
    return { value: null, status: 404, index };
  }
  if (!res.ok) return fail(res, path);
  const text = await res.text();
  let value: T;
  try {
    value = JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, `expected JSON, got: ${text.slice(0, 200)}`, path);
  }
  return { value, status: res.status, index };
}

/** PUT or DELETE; returns the JSON answer (true/false for KV writes), null for an empty body. */
export async function apiWrite(method: 'PUT' | 'DELETE', path: string, body?: string): Promise<unknown> {
  const res = await call(method, path, body, undefined);
  if (!res.ok) return fail(res, path);
  const text = await res.text();
  return text.trim() === '' ? null : (JSON.parse(text) as unknown);
}
