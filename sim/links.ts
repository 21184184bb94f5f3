// sim/links.ts — per-direction link behaviour (latency, loss, duplication, reorder).
//
// Owns: link configuration, validation of link settings, and drawing a one-way delay.
// Must never: decide reachability (sim/reach.ts does) or deliver anything.
import type { Rng } from '../core/rng.ts';

export interface LinkConfig {
  latencyMs: { min: number; max: number };
  loss: number;
  duplicate: number;
  reorder: number;
}

export const DEFAULT_LINK: LinkConfig = {
  latencyMs: { min: 1, max: 3 },
  loss: 0,
  duplicate: 0,
  reorder: 0,
};

/** Loopback never loses, duplicates or reorders, and takes no time (ordered after "now"). */
export const LOOPBACK_LINK: LinkConfig = { latencyMs: { min: 0, max: 0 }, loss: 0, duplicate: 0, reorder: 0 };

function probability(name: string, v: unknown, where: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new Error(`${where}: '${name}' must be a probability between 0 and 1, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Merge a partial config over a base, with clear errors for bad values. */
export function mergeLink(base: LinkConfig, cfg: Partial<LinkConfig>, where: string): LinkConfig {
  if (cfg === null || typeof cfg !== 'object') throw new Error(`${where}: link config must be an object, got ${JSON.stringify(cfg)}`);
  const known = new Set(['latencyMs', 'loss', 'duplicate', 'reorder']);
  for (const k of Object.keys(cfg)) {
    if (!known.has(k)) throw new Error(`${where}: unknown link setting '${k}' (known: latencyMs, loss, duplicate, reorder)`);
  }
  let latencyMs = base.latencyMs;
  if (cfg.latencyMs !== undefined) {
    const l = cfg.latencyMs as { min?: unknown; max?: unknown };
    const min = l?.min ?? base.latencyMs.min;
    const max = l?.max ?? base.latencyMs.max;
    if (typeof min !== 'number' || typeof max !== 'number' || !(min >= 0) || !(max >= min) || !Number.isFinite(max)) {
      throw new Error(`${where}: latencyMs must be {min, max} with 0 ≤ min ≤ max, got ${JSON.stringify(cfg.latencyMs)}`);
    }
    latencyMs = { min, max };
  }
  return {
    latencyMs,
    loss: cfg.loss === undefined ? base.loss : probability('loss', cfg.loss, where),
    duplicate: cfg.duplicate === undefined ? base.duplicate : probability('duplicate', cfg.duplicate, where),
    reorder: cfg.reorder === undefined ? base.reorder : probability('reorder', cfg.reorder, where),
  };
}

/** One-way delay for one datagram/segment, rounded to the microsecond to keep traces short. */
export function drawLatency(link: LinkConfig, rng: Rng): number {
  const { min, max } = link.latencyMs;
  if (max === min) return min;
  return Math.round((min + rng.next() * (max - min)) * 1000) / 1000;
}

/** Extra delay a reordered datagram gets: up to 3× the link's max latency. */
export function drawReorderDelay(link: LinkConfig, rng: Rng): number {
  return Math.round(rng.next() * 3 * link.latencyMs.max * 1000) / 1000;
}
