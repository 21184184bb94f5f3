// cli/commands/lock.ts — `consul lock [options] PREFIX CHILD...`: hold a lock (or, with -n > 1, a
// slot of a semaphore) in the KV store while a child process runs.
//
// Owns: Consul's lock and semaphore recipes exactly as its Go api package lays them out, so that
// locks taken by other Consul clients interoperate: a session (TTL 15s, renewed every TTL/2,
// destroyed on release), the lock key `<prefix>/.lock` acquired with flag 0x2ddccbc058a50c18;
// for a semaphore a contender key `<prefix>/<session>` acquired by each holder and the
// `<prefix>/.lock` key (flag 0xe0f69a2baa414de0) holding {"Limit":N,"Holders":{session:true}}
// changed by CAS, dead holders pruned; blocking reads to wait and to watch for the lock's loss;
// running the child (sh -c, or argv with -shell=false), killing it (SIGTERM, SIGKILL after 5 s)
// when the lock is lost or on SIGINT/SIGTERM, releasing and cleaning up, -child-exit-code.
// Must never: wait without a bound (every blocking read carries ?wait=, retries are counted), run
// the child without holding the lock, or leave its session behind on a normal exit.
import { parseGoDuration } from '../../core/http/duration.ts';
import { parseJson64 } from '../../core/http/json64.ts';
import { api, ApiError, bool, commonQuery, guard, httpAddr, parseFlags, sleeper, str, UsageError, withQuery, type ChildHandle, type CliIo } from './common.ts';

const USAGE = `Usage: consul lock [options] prefix child...

  Acquires a lock or semaphore at a given path, and invokes a child process
  when successful. The child process can assume the lock is held while it
  executes. If the lock is lost or communication is disrupted the child
  process will be sent a SIGTERM signal and given time to gracefully exit.
  After the grace period expires the process will be hard terminated.

  For Consul agents on Windows, the child process is always hard terminated
  with a SIGKILL, since Windows has no POSIX compatible notion for SIGTERM.

  When -n=1, only a single lock holder or leader exists providing mutual
  exclusion. Setting a higher value switches to a semaphore allowing multiple
  holders to coordinate.

  The prefix provided must have write privileges.

Options:

  -child-exit-code     Exit 2 if the child process exited with an error if this
                       is true, otherwise this doesn't propagate an error from
                       the child. The default value is false.
  -monitor-retry=3     Number of times to retry if Consul returns a 500 error
                       while monitoring the lock (1s between retries); 0 disables.
  -n=1                 Optional limit on the number of concurrent lock holders.
                       The underlying implementation switches from a lock to a
                       semaphore when the value is greater than 1.
  -name=""             Optional name to associate with the lock session. If not
                       provided, one is generated based on the provided child command.
  -pass-stdin          Pass stdin to the child process.
  -shell=true          Use a shell to run the command (set a custom shell via the
                       SHELL environment variable).
  -timeout=0s          Maximum amount of time to wait to acquire the lock.
  -verbose             Enable verbose (debugging) output.
  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
  -token=""            ACL token to use.
`;

/** Consul's api.LockFlagValue (0x2ddccbc058a50c18) and api.SemaphoreFlagValue (0xe0f69a2baa414de0). */
export const LOCK_FLAG = '3304740253564472344';
export const SEMAPHORE_FLAG = '16210313421097356768';
/** api.DefaultSemaphoreKey: the lock key under the prefix, for locks and semaphores alike. */
export const LOCK_KEY = '.lock';
const SESSION_TTL = '15s';
const SESSION_TTL_MS = 15_000;
/** api.DefaultLockWaitTime / DefaultSemaphoreWaitTime: one blocking read's wait. */
const DEFAULT_WAIT_MS = 15_000;
/** api.DefaultLockRetryTime: the pause while a lock-delay keeps a free lock unacquirable. */
const LOCK_RETRY_MS = 5_000;
/** The CLI's defaultMonitorRetryTime. */
const MONITOR_RETRY_MS = 1_000;
/** lockKillGracePeriod: SIGTERM, then SIGKILL after this. */
const KILL_GRACE_MS = 5_000;

// Consul's api error texts.
const ERR_LOCK_CONFLICT = 'Existing key does not match lock use';
const ERR_LOCK_IN_USE = 'Lock in use';
const ERR_SEMAPHORE_CONFLICT = 'Existing key does not match semaphore use';
const ERR_SEMAPHORE_IN_USE = 'Semaphore in use';

interface KvPair {
  Key: string;
  Flags: string;
  Value: string | null;
  Session: string;
  ModifyIndex: number;
}

/** The KV and session calls the recipes make, in the Go api client's shapes. */
class Client {
  constructor(
    private readonly io: CliIo,
    private readonly addr: string,
    private readonly q: string[],
    readonly stop: AbortSignal,
  ) {}

  private async call(method: string, path: string, extra: string[] = [], body?: Uint8Array) {
    const r = await api(this.io, this.addr, method, withQuery(path, [...this.q, ...extra]), body);
    return r;
  }

  private async blocking(path: string, extra: string[], index: number, waitMs: number, consistent: boolean) {
    const q = [...this.q, ...extra];
    if (index > 0) q.push(`index=${index}`, `wait=${Math.max(1, Math.ceil(waitMs))}ms`);
    if (consistent) q.push('consistent');
    // Only a long wait is cut short by stop; the reads of release and cleanup must still run.
    const r = await this.io.http.request(this.addr, 'GET', withQuery(path, q), undefined, index > 0 ? this.stop : undefined);
    return { ...r, text: new TextDecoder().decode(r.body) };
  }

  private static pairs(text: string): KvPair[] {
    const list = parseJson64(text) as Array<Omit<KvPair, 'Flags'> & { Flags: number | bigint }>;
    return list.map((p) => ({ Key: p.Key, Flags: String(p.Flags), Value: p.Value ?? null, Session: p.Session ?? '', ModifyIndex: p.ModifyIndex }));
  }

  /** GET one key (blocking when index > 0): the pair or null, and X-Consul-Index. */
  async get(key: string, index = 0, waitMs = 0, consistent = false): Promise<{ pair: KvPair | null; index: number }> {
    const r = await this.blocking(`/v1/kv/${encKey(key)}`, [], index, waitMs, consistent);
    // An index of 0 would make the next read return at once: never spin on an agent without one.
    const at = Math.max(1, Number(r.headers['x-consul-index'] ?? 1) || 1);
    if (r.status === 404) return { pair: null, index: at };
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    return { pair: Client.pairs(r.text)[0] ?? null, index: at };
  }

  /** GET ?recurse of a prefix ending in '/'. */
  async list(prefix: string, index = 0, waitMs = 0, consistent = false): Promise<{ pairs: KvPair[]; index: number }> {
    const r = await this.blocking(`/v1/kv/${encKey(prefix)}`, ['recurse'], index, waitMs, consistent);
    const at = Math.max(1, Number(r.headers['x-consul-index'] ?? 1) || 1);
    if (r.status === 404) return { pairs: [], index: at };
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    return { pairs: Client.pairs(r.text), index: at };
  }

  private async put(key: string, params: string[], flags: string, value: Uint8Array): Promise<boolean> {
    const r = await this.call('PUT', `/v1/kv/${encKey(key)}`, [...params, `flags=${flags}`], value);
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    return r.text.trim() === 'true';
  }
  acquire = (key: string, flags: string, session: string, value = new Uint8Array()) => this.put(key, [`acquire=${session}`], flags, value);
  release = (key: string, flags: string, session: string, value = new Uint8Array()) => this.put(key, [`release=${session}`], flags, value);
  cas = (key: string, flags: string, index: number, value: Uint8Array) => this.put(key, [`cas=${index}`], flags, value);

  async deleteCas(key: string, index: number): Promise<boolean> {
    const r = await this.call('DELETE', `/v1/kv/${encKey(key)}`, [`cas=${index}`]);
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    return r.text.trim() === 'true';
  }

  async delete(key: string): Promise<void> {
    const r = await this.call('DELETE', `/v1/kv/${encKey(key)}`);
    if (r.status !== 200) throw new ApiError(r.status, r.text);
  }

  async sessionCreate(name: string): Promise<string> {
    const r = await this.call('PUT', '/v1/session/create', [], new TextEncoder().encode(JSON.stringify({ Name: name, TTL: SESSION_TTL })));
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    return (JSON.parse(r.text) as { ID: string }).ID;
  }

  /** The session's TTL in ms after a renew, or null when the session is gone. */
  async sessionRenew(id: string): Promise<number | null> {
    const r = await this.call('PUT', `/v1/session/renew/${encodeURIComponent(id)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    const entry = (JSON.parse(r.text) as Array<{ TTL?: string }>)[0];
    if (!entry) return null;
    return parseGoDuration(entry.TTL ?? '') || SESSION_TTL_MS;
  }

  async sessionDestroy(id: string): Promise<void> {
    await this.call('PUT', `/v1/session/destroy/${encodeURIComponent(id)}`).catch(() => undefined);
  }
}

const encKey = (k: string): string => k.split('/').map(encodeURIComponent).join('/');

/** Go's path.Join for two parts: one slash between them, no trailing slash. */
const join = (a: string, b: string): string => `${a.replace(/\/+$/, '')}/${b}`.replace(/\/{2,}/g, '/').replace(/^\//, '');

/** A monitor's blocking read: the servers' default wait (5 min), as Consul's api sends none. */
const MONITOR_WAIT_MS = 300_000;

/** Blocking reads until `read` says the lock is no longer held; up to `monitorRetries` failed
 *  reads in a row (500s, lost connections) are retried 1 s apart, as the api's monitorLock does.
 *  Never resolves once `stop` aborted (the command is ending on its own). */
async function watchHeld(c: Client, o: RecipeOptions, read: (index: number) => Promise<{ held: boolean; index: number }>): Promise<void> {
  const never = new Promise<void>(() => {});
  let index = 0;
  let retries = o.monitorRetries;
  for (;;) {
    if (c.stop.aborted) return never;
    try {
      const got = await read(index);
      retries = o.monitorRetries;
      if (!got.held) return;
      index = got.index;
    } catch (e) {
      if (c.stop.aborted) return never;
      if (retries === 0 || !retryable(e)) return;
      retries--;
      index = 0;
      await o.sleep(MONITOR_RETRY_MS, c.stop);
    }
  }
}

const retryable = (e: unknown): boolean => (e instanceof ApiError && e.status === 500) || (e instanceof Error && e.name === 'ConnectionError');

/** A lock or slot held; `lost` resolves when it is no longer ours (a wrapper: a promise of a
 *  promise would flatten). */
interface Held {
  lost: Promise<void>;
}

/** What both recipes offer the command: acquire (what is held, or null on timeout/shutdown),
 *  release, and cleanup (inUse when someone else still uses the prefix). */
interface Recipe {
  acquire(): Promise<Held | null>;
  release(): Promise<void>;
  cleanup(): Promise<void>;
  inUseError: string;
}

interface RecipeOptions {
  name: string;
  /** -timeout: try until then (0: keep trying). */
  timeoutMs: number;
  monitorRetries: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  nowMs: () => number;
}

/** A session renewed every TTL/2 until `stop`, then destroyed (api.Session.RenewPeriodic). */
function renewPeriodic(c: Client, id: string, o: RecipeOptions, stop: AbortSignal): Promise<void> {
  return (async () => {
    let ttl = SESSION_TTL_MS;
    let wait = ttl / 2;
    let last = o.nowMs();
    for (;;) {
      // Renewals kept failing for a whole TTL: the servers will have expired it.
      if (o.nowMs() - last > ttl) return;
      await o.sleep(wait, stop);
      if (stop.aborted) break;
      try {
        const next = await c.sessionRenew(id);
        if (next === null) return; // expired: the lock monitor sees the loss
        ttl = next;
        wait = ttl / 2;
        last = o.nowMs();
      } catch {
        wait = 1_000;
      }
    }
    await c.sessionDestroy(id);
  })();
}

/** api's LockTryOnce / SemaphoreTryOnce bookkeeping: each attempt's blocking wait, shrinking
 *  to what is left of -timeout, or null once it has passed (or the command is stopping). */
class Attempts {
  private readonly start: number;
  private count = 0;

  constructor(
    private readonly c: Client,
    private readonly o: RecipeOptions,
  ) {
    this.start = o.nowMs();
  }

  next(): number | null {
    if (this.c.stop.aborted) return null;
    const first = this.count++ === 0;
    if (this.o.timeoutMs <= 0) return DEFAULT_WAIT_MS;
    if (first) return this.o.timeoutMs;
    const elapsed = this.o.nowMs() - this.start;
    return elapsed > this.o.timeoutMs ? null : this.o.timeoutMs - elapsed;
  }
}

class SessionHolder {
  id = '';
  private renewStop: AbortController | null = null;
  private renewing: Promise<void> | null = null;

  constructor(
    private readonly c: Client,
    private readonly o: RecipeOptions,
  ) {}

  async create(): Promise<string> {
    this.id = await this.c.sessionCreate(this.o.name);
    this.renewStop = new AbortController();
    this.renewing = renewPeriodic(this.c, this.id, this.o, this.renewStop.signal);
    return this.id;
  }

  /** Create the session and run `take`; unless it took the lock, end the session again. */
  async during(take: (id: string) => Promise<Held | null>): Promise<Held | null> {
    let held: Held | null = null;
    try {
      held = await take(await this.create());
      return held;
    } finally {
      if (!held) await this.end();
    }
  }

  /** Stop renewing and destroy the session (RenewPeriodic's doneCh). */
  async end(): Promise<void> {
    this.renewStop?.abort();
    await this.renewing;
    this.renewStop = null;
    this.renewing = null;
  }
}

/** api.Lock with LockOptions{Key: <prefix>/.lock, SessionName, MonitorRetries, LockTryOnce}. */
class LockRecipe implements Recipe {
  readonly inUseError = ERR_LOCK_IN_USE;
  private readonly session: SessionHolder;
  private held = false;

  constructor(
    private readonly c: Client,
    readonly key: string,
    private readonly o: RecipeOptions,
  ) {
    this.session = new SessionHolder(c, o);
  }

  /** As api.Lock.Lock: the session goes again when the lock was not taken. */
  acquire(): Promise<Held | null> {
    return this.session.during((id) => this.take(id));
  }

  private async take(session: string): Promise<Held | null> {
    const attempts = new Attempts(this.c, this.o);
    let index = 0;
    for (;;) {
      const wait = attempts.next();
      if (wait === null) return null;
      let got: { pair: KvPair | null; index: number };
      try {
        got = await this.c.get(this.key, index, wait);
      } catch (e) {
        if (this.c.stop.aborted) return null;
        throw new Error(`failed to read lock: ${(e as Error).message}`);
      }
      const pair = got.pair;
      if (pair && pair.Flags !== LOCK_FLAG) throw new Error(ERR_LOCK_CONFLICT);
      if (pair && pair.Session === session) break;
      if (pair && pair.Session !== '') {
        index = got.index;
        continue;
      }
      let locked: boolean;
      try {
        locked = await this.c.acquire(this.key, LOCK_FLAG, session);
      } catch (e) {
        throw new Error(`failed to acquire lock: ${(e as Error).message}`);
      }
      if (locked) break;
      // Held by someone who got there first (wait on it), or a lock-delay (a timed wait).
      const again = await this.c.get(this.key).catch((e: Error) => {
        throw new Error(`failed to read lock: ${e.message}`);
      });
      if (again.pair && again.pair.Session !== '') {
        index = again.index;
        continue;
      }
      index = 0;
      await this.o.sleep(LOCK_RETRY_MS, this.c.stop);
    }
    this.held = true;
    return { lost: this.monitor(session) };
  }

  /** Resolves when the key is no longer held by `session` (api's monitorLock). */
  private monitor(session: string): Promise<void> {
    return watchHeld(this.c, this.o, async (index) => {
      const got = await this.c.get(this.key, index, MONITOR_WAIT_MS, true);
      return { held: got.pair !== null && got.pair.Session === session, index: got.index };
    });
  }

  async release(): Promise<void> {
    if (!this.held) throw new Error('Lock not held');
    this.held = false;
    try {
      await this.c.release(this.key, LOCK_FLAG, this.session.id);
    } catch (e) {
      throw new Error(`failed to release lock: ${(e as Error).message}`);
    } finally {
      await this.session.end();
    }
  }

  async cleanup(): Promise<void> {
    if (this.held) throw new Error('Lock already held');
    const { pair } = await this.c.get(this.key).catch((e: Error) => {
      throw new Error(`failed to read lock: ${e.message}`);
    });
    if (!pair) return;
    if (pair.Flags !== LOCK_FLAG) throw new Error(ERR_LOCK_CONFLICT);
    if (pair.Session !== '') throw new Error(ERR_LOCK_IN_USE);
    const removed = await this.c.deleteCas(this.key, pair.ModifyIndex).catch((e: Error) => {
      throw new Error(`failed to remove lock: ${e.message}`);
    });
    if (!removed) throw new Error(ERR_LOCK_IN_USE);
  }
}

interface SemaphoreLock {
  Limit: number;
  Holders: Record<string, boolean>;
}

/** api.Semaphore with SemaphoreOptions{Prefix, Limit, SessionName, MonitorRetries, SemaphoreTryOnce}. */
class SemaphoreRecipe implements Recipe {
  readonly inUseError = ERR_SEMAPHORE_IN_USE;
  private readonly session: SessionHolder;
  private held = false;
  /** The prefix with one trailing '/', as api.SemaphoreOpts makes it. */
  private readonly prefix: string;
  private readonly lockKey: string;

  constructor(
    private readonly c: Client,
    prefix: string,
    private readonly limit: number,
    private readonly o: RecipeOptions,
  ) {
    this.session = new SessionHolder(c, o);
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.lockKey = this.prefix + LOCK_KEY;
  }

  private findLock(pairs: KvPair[]): KvPair {
    return pairs.find((p) => p.Key === this.lockKey) ?? { Key: this.lockKey, Flags: SEMAPHORE_FLAG, Value: null, Session: '', ModifyIndex: 0 };
  }

  private decodeLock(pair: KvPair | null): SemaphoreLock {
    if (!pair || pair.Value === null) return { Limit: this.limit, Holders: {} };
    try {
      const v = JSON.parse(Buffer.from(pair.Value, 'base64').toString('utf8')) as Partial<SemaphoreLock>;
      return { Limit: Number(v.Limit ?? 0), Holders: { ...(v.Holders ?? {}) } };
    } catch (e) {
      throw new Error(`lock decoding failed: ${(e as Error).message}`);
    }
  }

  /** Go's json.Marshal of the struct: Limit, then Holders with sorted keys. */
  private encodeLock(lock: SemaphoreLock): Uint8Array {
    const holders: Record<string, boolean> = {};
    for (const k of Object.keys(lock.Holders).sort()) holders[k] = lock.Holders[k]!;
    return new TextEncoder().encode(JSON.stringify({ Limit: lock.Limit, Holders: holders }));
  }

  /** Holders whose session no longer holds any key under the prefix are gone. */
  private prune(lock: SemaphoreLock, pairs: KvPair[]): void {
    const alive = new Set(pairs.filter((p) => p.Session !== '').map((p) => p.Session));
    for (const h of Object.keys(lock.Holders)) if (!alive.has(h)) delete lock.Holders[h];
  }

  private contenderKey(session: string): string {
    return join(this.prefix, session);
  }

  /** As api.Semaphore.Acquire: the session goes again when no slot was taken. */
  acquire(): Promise<Held | null> {
    return this.session.during((id) => this.take(id));
  }

  private async take(session: string): Promise<Held | null> {
    let made: boolean;
    try {
      made = await this.c.acquire(this.contenderKey(session), SEMAPHORE_FLAG, session);
    } catch (e) {
      throw new Error(`failed to make contender entry: ${(e as Error).message}`);
    }
    if (!made) throw new Error('failed to make contender entry: <nil>');
    const attempts = new Attempts(this.c, this.o);
    let index = 0;
    for (;;) {
      const wait = attempts.next();
      if (wait === null) return null;
      let got: { pairs: KvPair[]; index: number };
      try {
        got = await this.c.list(this.prefix, index, wait);
      } catch (e) {
        if (this.c.stop.aborted) return null;
        throw new Error(`failed to read prefix: ${(e as Error).message}`);
      }
      const lockPair = this.findLock(got.pairs);
      if (lockPair.Flags !== SEMAPHORE_FLAG) throw new Error(ERR_SEMAPHORE_CONFLICT);
      const lock = this.decodeLock(lockPair);
      if (lock.Limit !== this.limit) throw new Error(`semaphore limit conflict (lock: ${lock.Limit}, local: ${this.limit})`);
      this.prune(lock, got.pairs);
      if (Object.keys(lock.Holders).length >= lock.Limit) {
        index = got.index;
        continue;
      }
      lock.Holders[session] = true;
      let set: boolean;
      try {
        set = await this.c.cas(this.lockKey, SEMAPHORE_FLAG, lockPair.ModifyIndex, this.encodeLock(lock));
      } catch (e) {
        throw new Error(`failed to update lock: ${(e as Error).message}`);
      }
      // Lost a race with another contender: read again.
      if (!set) {
        index = 0;
        continue;
      }
      break;
    }
    this.held = true;
    return { lost: this.monitor(session) };
  }

  /** Resolves when `session` is no longer among the live holders (api's monitorLock). */
  private monitor(session: string): Promise<void> {
    return watchHeld(this.c, this.o, async (index) => {
      const got = await this.c.list(this.prefix, index, MONITOR_WAIT_MS, true);
      const lock = this.decodeLock(this.findLock(got.pairs));
      this.prune(lock, got.pairs);
      return { held: lock.Holders[session] === true, index: got.index };
    });
  }

  async release(): Promise<void> {
    if (!this.held) throw new Error('Semaphore not held');
    this.held = false;
    const session = this.session.id;
    try {
      // CAS ourselves out of the holders, re-reading on a lost race (bounded: each retry
      // follows someone else's successful write).
      for (let tries = 0; tries < 100; tries++) {
        const { pair } = await this.c.get(this.lockKey);
        const lock = this.decodeLock(pair);
        if (!lock.Holders[session]) break;
        delete lock.Holders[session];
        const set = await this.c.cas(this.lockKey, SEMAPHORE_FLAG, pair?.ModifyIndex ?? 0, this.encodeLock(lock)).catch((e: Error) => {
          throw new Error(`failed to update lock: ${e.message}`);
        });
        if (set) break;
      }
      await this.c.delete(this.contenderKey(session));
    } finally {
      await this.session.end();
    }
  }

  async cleanup(): Promise<void> {
    if (this.held) throw new Error('Semaphore lock already held');
    const { pairs } = await this.c.list(this.prefix).catch((e: Error) => {
      throw new Error(`failed to read prefix: ${e.message}`);
    });
    const lockPair = this.findLock(pairs);
    if (lockPair.ModifyIndex === 0) return;
    if (lockPair.Flags !== SEMAPHORE_FLAG) throw new Error(ERR_SEMAPHORE_CONFLICT);
    const lock = this.decodeLock(lockPair);
    this.prune(lock, pairs);
    if (Object.keys(lock.Holders).length > 0) throw new Error(ERR_SEMAPHORE_IN_USE);
    const removed = await this.c.deleteCas(this.lockKey, lockPair.ModifyIndex).catch((e: Error) => {
      throw new Error(`failed to remove semaphore: ${e.message}`);
    });
    if (!removed) throw new Error(ERR_SEMAPHORE_IN_USE);
  }
}

function intFlag(flags: Record<string, string | boolean>, name: string, dflt: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^[+-]?\d+$/.test(v)) throw new UsageError(`invalid value "${String(v)}" for flag -${name}: parse error`);
  return Number(v);
}

function durationFlag(flags: Record<string, string | boolean>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const text = String(v);
  const negative = text.startsWith('-');
  const ms = parseGoDuration(negative ? text.slice(1) : text);
  if (ms === null) throw new UsageError(`invalid value "${text}" for flag -${name}: parse error`);
  return negative ? -ms : ms;
}

interface Run {
  io: CliIo;
  recipe: Recipe;
  child: string[];
  shell: boolean;
  passStdin: boolean;
  childExitCode: boolean;
  stop: AbortController;
  shutdown: Promise<'shutdown'>;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  info: (s: string) => void;
  fail: (s: string) => number;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, {
      'child-exit-code': 'bool',
      'monitor-retry': 'string',
      n: 'string',
      name: 'string',
      'pass-stdin': 'bool',
      shell: 'bool',
      timeout: 'string',
      try: 'string',
      verbose: 'bool',
    });
    const limit = intFlag(flags, 'n', 1);
    const monitorRetries = intFlag(flags, 'monitor-retry', 3);
    const timeoutMs = durationFlag(flags, 'timeout') ?? durationFlag(flags, 'try') ?? 0;
    const verbose = bool(flags, 'verbose');
    const info = (s: string): void => {
      if (verbose) io.stdout(`${s}\n`);
    };
    const fail = (s: string): number => {
      io.stderr(`${s}\n`);
      return 1;
    };
    if (limit <= 0) return fail('Lock holder limit must be positive');
    if (rest.length < 2) return fail('Key prefix and child command must be specified');
    const prefix = rest[0]!.replace(/^\//, '');
    const child = rest.slice(1);
    if (timeoutMs < 0) return fail('Timeout must be positive');
    const name = str(flags, 'name') || `Consul lock for '${child.join(' ')}' at '${prefix}'`;
    if (monitorRetries < 0) return fail("Number for 'monitor-retry' must be >= 0");
    if (!io.startChild) return fail('consul lock cannot start child processes here (no process support in this world)');

    const addr = httpAddr(flags, io.env);
    const self = await api(io, addr, 'GET', withQuery('/v1/agent/self', commonQuery(flags)));
    if (self.status !== 200) return fail(`Error querying Consul agent: ${new ApiError(self.status, self.text).message}`);

    const stop = new AbortController();
    let off: (() => void) | undefined;
    const shutdown = new Promise<'shutdown'>((resolve) => {
      off = io.onShutdown?.(() => resolve('shutdown'));
    });
    const sleep = sleeper(io);
    const c = new Client(io, addr, commonQuery(flags).filter((p) => p !== 'stale'), stop.signal);
    const opts: RecipeOptions = { name, timeoutMs, monitorRetries, sleep, nowMs: () => Date.now() };
    let recipe: Recipe;
    if (limit === 1) {
      const key = join(prefix, LOCK_KEY);
      info(`Setting up lock at path: ${key}`);
      recipe = new LockRecipe(c, key, opts);
    } else {
      info(`Setting up semaphore (limit ${limit}) at prefix: ${prefix}`);
      recipe = new SemaphoreRecipe(c, prefix, limit, opts);
    }
    const shell = flags['shell'] === undefined ? true : bool(flags, 'shell');
    try {
      return await holdAndRun({
        io, recipe, child, shell, passStdin: bool(flags, 'pass-stdin'), childExitCode: bool(flags, 'child-exit-code'), stop, shutdown, sleep, info, fail,
      });
    } finally {
      off?.();
      stop.abort();
    }
  });
}

/** Acquire, run the child while held, kill it on loss or shutdown, release and clean up. */
async function holdAndRun(r: Run): Promise<number> {
  const { io, recipe, info, fail, stop } = r;
  info('Attempting lock acquisition');
  let held: Held | null;
  try {
    const acquiring = recipe.acquire();
    const first = await Promise.race([acquiring, r.shutdown]);
    if (first === 'shutdown') {
      stop.abort();
      held = await acquiring.catch(() => null);
      if (!held) return fail('Shutdown triggered or timeout during lock acquisition');
      io.stderr('Shutdown triggered during lock acquisition\n');
      return finish(r, 0);
    }
    held = first;
  } catch (e) {
    return fail(`Lock acquisition failed: ${(e as Error).message}`);
  }
  if (!held) return fail('Shutdown triggered or timeout during lock acquisition');

  info('Starting handler');
  let proc: ChildHandle;
  try {
    proc = io.startChild!(r.child, { shell: r.shell, passStdin: r.passStdin });
  } catch (e) {
    io.stderr(`Error starting handler: ${(e as Error).message}\n`);
    return finish(r, 0);
  }
  const exited = proc.exited.then((x) => {
    if (x.error) io.stderr(`Error starting handler: ${x.error}\n`);
    else if (x.code !== 0) io.stderr(`Error running handler: ${x.signal ? `signal: ${signalText(x.signal)}` : `exit status ${x.code}`}\n`);
    return x;
  });
  const outcome = await Promise.race([
    exited.then((x) => ({ kind: 'child' as const, failed: x.code !== 0 || x.error !== undefined })),
    held.lost.then(() => ({ kind: 'lost' as const, failed: false })),
    r.shutdown.then(() => ({ kind: 'shutdown' as const, failed: false })),
  ]);
  if (outcome.kind === 'child') {
    info('Child terminated, releasing lock');
  } else {
    info(outcome.kind === 'lost' ? 'Lock lost, killing child' : 'Shutdown triggered, killing child');
    info(`Terminating child pid ${proc.pid}`);
    proc.kill('SIGTERM');
    const grace = new AbortController();
    const inTime = await Promise.race([exited.then(() => true), r.sleep(KILL_GRACE_MS, grace.signal).then(() => false)]);
    grace.abort();
    if (inTime) info('Child terminated');
    else {
      info(`Child did not exit after grace period of ${KILL_GRACE_MS / 1000}s`);
      info(`Killing child pid ${proc.pid}`);
      proc.kill('SIGKILL');
      await exited;
    }
  }
  // Exit 2 for a failed child only with -child-exit-code (Consul's rule).
  return finish(r, r.childExitCode && outcome.failed ? 2 : 0);
}

async function finish(r: Run, code: number): Promise<number> {
  r.stop.abort();
  try {
    await r.recipe.release();
  } catch (e) {
    return r.fail(`Lock release failed: ${(e as Error).message}`);
  }
  try {
    await r.recipe.cleanup();
    r.info('Cleanup succeeded');
  } catch (e) {
    if ((e as Error).message !== r.recipe.inUseError) return r.fail(`Lock cleanup failed: ${(e as Error).message}`);
    r.info('Cleanup aborted, lock in use');
  }
  return code;
}

/** Go's syscall.Signal String() for the signals a child usually dies of. */
function signalText(sig: string): string {
  return ({ SIGTERM: 'terminated', SIGKILL: 'killed', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit' } as Record<string, string>)[sig] ?? sig;
}
