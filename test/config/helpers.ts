// test/config/helpers.ts — an in-memory disk and one-call loaders for config tests.
//
// Owns: MemDisk (the DiskPort subset the config loader reads), `load` (flags + files → the
// LoadedConfig) and `loadError` (the one-line message a bad input must produce).
// Must never: touch the real file system.
import { loadAgentConfig } from '../../core/config/load.ts';
import type { LoadedConfig } from '../../core/config/model.ts';

export class MemDisk {
  readonly files = new Map<string, string>();
  constructor(files: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(files)) this.files.set(k, v);
  }
  read(path: string): Uint8Array | null {
    const t = this.files.get(path);
    return t === undefined ? null : new TextEncoder().encode(t);
  }
  list(dir: string): string[] {
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
    return [...names].sort();
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.list(path).length > 0;
  }
}

/** Files under /etc/muster.d (a -config-dir) plus extra flags. */
export function load(files: Record<string, string>, args: string[] = []): LoadedConfig {
  const disk = new MemDisk(Object.fromEntries(Object.entries(files).map(([k, v]) => [k.startsWith('/') ? k : `/etc/muster.d/${k}`, v])));
  const dirArgs = Object.keys(files).some((k) => !k.startsWith('/')) ? ['-config-dir=/etc/muster.d'] : [];
  return loadAgentConfig(['-data-dir=/data', ...dirArgs, ...args], 'host1', disk);
}

/** The error message loading these files (and flags) must fail with. */
export function loadError(files: Record<string, string>, args: string[] = []): string {
  try {
    load(files, args);
  } catch (err) {
    const msg = (err as Error).message;
    if (msg.includes('\n')) throw new Error(`error is not one line: ${JSON.stringify(msg)}`);
    return msg;
  }
  throw new Error('expected the load to fail');
}
