// core/dns/cache.ts — encoded answers kept while the catalog does not change.
//
// Owns: remembering, per (type, query name as asked), what a lookup resolved to — rcode,
// encoded answer units, health-filter log lines — for as long as the same view reports the
// same lastIndex() and the same config and datacenter are in use; bounded in entries.
// Must never: hold the shuffled order or anything time-dependent (the SOA serial is built per
// query), or outlive a change of the view's index (every catalog write raises it).
import type { LogEffect } from '../machine.ts';
import type { CatalogView } from '../catalog/types.ts';
import type { DnsConfig } from './config.ts';
import type { AnswerUnit } from './trim.ts';

export interface AnswerSet {
  rcode: number;
  /** Answers in the view's (sorted) order; shuffled per query when `shuffle`. */
  units: AnswerUnit[];
  /** Lines to log each time this answer is given (Consul logs every filtered instance per query). */
  logs: LogEffect[];
  shuffle: boolean;
}

const DEFAULT_MAX_ENTRIES = 4096;

export class DnsAnswerCache {
  private readonly entries = new Map<string, AnswerSet>();
  private view: CatalogView | null = null;
  private config: DnsConfig | null = null;
  private datacenter = '';
  private index = -1;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  get(ctx: { view: CatalogView; config: DnsConfig; datacenter: string }, key: string): AnswerSet | undefined {
    const index = ctx.view.lastIndex();
    if (ctx.view !== this.view || ctx.config !== this.config || ctx.datacenter !== this.datacenter || index !== this.index) {
      this.entries.clear();
      this.view = ctx.view;
      this.config = ctx.config;
      this.datacenter = ctx.datacenter;
      this.index = index;
      return undefined;
    }
    return this.entries.get(key);
  }

  set(key: string, value: AnswerSet): void {
    // A flood of distinct names must not grow memory without bound; dropping everything
    // is crude but keeps the hot names (they come right back).
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, value);
  }
}
