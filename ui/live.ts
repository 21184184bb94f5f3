// ui/live.ts — React hooks that keep page data live: blocking-query loops, plain polls for
// endpoints without an index, and fan-out fetches re-run when a blocking index moves.
//
// Owns: the request loops (abort on unmount or path change, keep the last good data while
// failing, back off on errors, reset on an index going backwards — rules in model/blocking.ts).
// Must never: render anything or decide what an error means to the user.
import { useEffect, useState } from 'react';
import { ApiError, apiGet } from './api.ts';
import { backoffMs, nextIndex, pauseAfterSuccessMs, withIndex } from './model/blocking.ts';

export interface Live<T> {
  /** Last good value (kept while later requests fail); undefined before the first answer. */
  data: T | undefined;
  /** The error of the latest request, null once a request succeeds again. */
  error: ApiError | null;
  /** Index of the latest answer (0 for endpoints without one); changes whenever data may have. */
  index: number;
  /** Bumped on every good answer: a trigger for dependent fetches. */
  version: number;
}

const initial = <T>(): Live<T> => ({ data: undefined, error: null, index: 0, version: 0 });

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function asApiError(err: unknown, path: string): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, err instanceof Error ? err.message : String(err), path);
}

interface LoopOptions {
  allow404?: boolean;
  /** Poll every this many ms instead of blocking (endpoints with no X-Consul-Index). */
  pollMs?: number;
}

function useLoop<T>(path: string | null, opts: LoopOptions): Live<T> {
  const [live, setLive] = useState<Live<T>>(initial);
  const { allow404 = false, pollMs } = opts;
  useEffect(() => {
    setLive(initial());
    if (path === null) return;
    const ctl = new AbortController();
    const { signal } = ctl;
    void (async () => {
      let index = 0;
      let failures = 0;
      while (!signal.aborted) {
        const started = performance.now();
        try {
          const url = pollMs === undefined ? withIndex(path, index) : path;
          const ans = await apiGet<T>(url, { signal, allow404 });
          if (signal.aborted) return;
          const next = pollMs === undefined ? nextIndex(index, ans.index) : 0;
          failures = 0;
          setLive((prev) => ({ data: ans.value as T, error: null, index: next, version: prev.version + 1 }));
          const pause = pollMs ?? pauseAfterSuccessMs(index, next, performance.now() - started);
          index = next;
          await sleep(pause, signal);
        } catch (err) {
          if (signal.aborted) return;
          failures++;
          const error = asApiError(err, path);
          setLive((prev) => ({ ...prev, error }));
          // A failed blocking read says nothing about the index: ask afresh next time.
          index = 0;
          await sleep(Math.max(backoffMs(failures), pollMs ?? 0), signal);
        }
      }
    })();
    return () => ctl.abort();
  }, [path, allow404, pollMs]);
  return live;
}

/** Keep `path` live with ?index=&wait= blocking reads. */
export function useBlocking<T>(path: string | null, opts: { allow404?: boolean } = {}): Live<T> {
  return useLoop<T>(path, { allow404: opts.allow404 ?? false });
}

/** Re-read `path` every `everyMs` (agent-local and status endpoints have no index to block on). */
export function usePoll<T>(path: string | null, everyMs: number): Live<T> {
  return useLoop<T>(path, { pollMs: everyMs });
}

export interface Fanout<T> {
  values: Record<string, T | null>;
  errors: Record<string, ApiError>;
}

/**
 * Fetch every path once per `trigger` value (pass the version of the blocking reads the
 * paths depend on). Earlier values stay visible until the new ones arrive, so a live page
 * never flickers back to "loading".
 */
export function useFanout<T>(paths: readonly string[], trigger: string, opts: { allow404?: boolean } = {}): Fanout<T> {
  const [out, setOut] = useState<Fanout<T>>({ values: {}, errors: {} });
  const key = paths.join('\n');
  const allow404 = opts.allow404 ?? false;
  useEffect(() => {
    const ctl = new AbortController();
    const list = key === '' ? [] : key.split('\n');
    void Promise.all(
      list.map(async (p) => {
        try {
          const ans = await apiGet<T>(p, { signal: ctl.signal, allow404 });
          return { p, value: ans.value as T | null, error: null };
        } catch (err) {
          return { p, value: undefined, error: asApiError(err, p) };
        }
      }),
    ).then((results) => {
      if (ctl.signal.aborted) return;
      setOut((prev) => {
        const values: Record<string, T | null> = {};
        const errors: Record<string, ApiError> = {};
        for (const r of results) {
          if (r.error) {
            errors[r.p] = r.error;
            if (r.p in prev.values) values[r.p] = prev.values[r.p]!;
          } else values[r.p] = r.value ?? null;
        }
        return { values, errors };
      });
    });
    return () => ctl.abort();
  }, [key, trigger, allow404]);
  return out;
}
