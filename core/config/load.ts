// core/config/load.ts — the agent's whole configuration: flags plus every config file, read
// through the disk port (so the simulator and a real agent load the same way).
//
// Owns: which files are read and in what order — each -config-file and -config-dir in
// command-line order; a dir's *.json and *.hcl files in lexical order, no subdirectories,
// other files skipped with a warning; -config-format forcing one format — and the merge order
// Consul documents: defaults, list-valued flags, the files, the other flags, -hcl snippets.
// Must never: throw anything but UsageError (a bad flag) or ConfigError (a bad file, with
// file:line:col and key); never ignore a file or key silently.
import type { DiskPort } from '../runtime/ports.ts';
import { parseHcl } from './hcl.ts';
import { parseJsonTree } from './json.ts';
import { decodeFile, type Fragment } from './decode.ts';
import { parseFlags } from './flags.ts';
import { mergeFragments } from './merge.ts';
import { buildConfig } from './build.ts';
import { ConfigError, type CObject } from './tree.ts';
import type { LoadedConfig } from './model.ts';

export type ConfigDisk = Pick<DiskPort, 'read' | 'list' | 'exists'>;

const decoder = new TextDecoder('utf-8', { fatal: false });

export interface ConfigSource {
  name: string;
  format: 'json' | 'hcl';
  text: string;
}

/** Parse one source's text into its tree (never throws; a ConfigError comes back instead). */
export function parseSource(src: ConfigSource): { ok: true; body: CObject } | { ok: false; error: ConfigError } {
  if (src.format === 'json') return parseJsonTree(src.text, src.name);
  return parseHcl(src.text, src.name);
}

function formatOf(name: string, forced: '' | 'json' | 'hcl'): 'json' | 'hcl' | null {
  if (forced) return forced;
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.hcl')) return 'hcl';
  return null;
}

/** Read -config-file / -config-dir paths into sources, in Consul's order. */
export function readSources(
  disk: ConfigDisk,
  paths: ReadonlyArray<{ kind: 'dir' | 'file'; path: string }>,
  forced: '' | 'json' | 'hcl',
  warnings: string[],
): ConfigSource[] {
  const out: ConfigSource[] = [];
  const readText = (name: string): string | null => {
    let bytes: Uint8Array | null;
    try {
      bytes = disk.read(name);
    } catch (err) {
      if ((err as { code?: string }).code === 'EISDIR') return null;
      throw new ConfigError(name, null, '', `cannot read: ${(err as Error).message}`);
    }
    return bytes === null ? null : decoder.decode(bytes);
  };
  for (const p of paths) {
    const path = p.path.length > 1 ? p.path.replace(/\/+$/, '') : p.path;
    if (p.kind === 'file') {
      const format = formatOf(path, forced);
      if (!format) throw new ConfigError(path, null, '', 'file has unknown extension; must be .hcl or .json, or config format must be set (-config-format)');
      const text = readText(path);
      if (text === null) throw new ConfigError(path, null, '', 'config file does not exist or cannot be read');
      out.push({ name: path, format, text });
      continue;
    }
    if (!disk.exists(path)) throw new ConfigError(path, null, '', 'config directory does not exist');
    let names: string[];
    try {
      names = [...disk.list(path)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch (err) {
      throw new ConfigError(path, null, '', `cannot list the config directory: ${(err as Error).message}`);
    }
    for (const name of names) {
      const full = `${path}/${name}`;
      const format = formatOf(name, forced);
      if (!format) {
        // A subdirectory lists children; Consul skips those without a word, other files with a warning.
        if (!isDirectory(disk, full)) warnings.push(`skipping file ${full}, extension must be .hcl or .json, or config format must be set`);
        continue;
      }
      const text = readText(full);
      if (text === null) continue; // a subdirectory named *.json/*.hcl: Consul does not recurse
      out.push({ name: full, format, text });
    }
  }
  return out;
}

function isDirectory(disk: ConfigDisk, path: string): boolean {
  try {
    return disk.list(path).length > 0;
  } catch {
    return false;
  }
}

/**
 * Flags + config files → the agent's configuration and its service/check definitions.
 * Throws UsageError for bad flags (the caller prints usage) and ConfigError for bad files.
 */
export function loadAgentConfig(args: string[], hostName: string, disk: ConfigDisk): LoadedConfig {
  const flags = parseFlags(args);
  const warnings: string[] = [];
  const sources = readSources(disk, flags.configPaths, flags.configFormat, warnings);
  return buildFromSources(flags, sources, hostName, warnings);
}

/** Flags only: the configuration as if every config file were empty (no disk reads). */
export function loadFlagsOnly(args: string[], hostName: string): LoadedConfig {
  return buildFromSources(parseFlags(args), [], hostName, []);
}

function buildFromSources(flags: ReturnType<typeof parseFlags>, sources: ConfigSource[], hostName: string, warnings: string[]): LoadedConfig {
  const decode = (src: ConfigSource): Fragment => {
    const parsed = parseSource(src);
    if (!parsed.ok) throw parsed.error;
    const d = decodeFile(src.name, parsed.body);
    warnings.push(...d.warnings);
    return d.fragment;
  };
  const files = sources.map(decode);
  const snippets = flags.hcl.map((text, i) => decode({ name: `flags-${i}.hcl`, format: 'hcl', text }));
  const merged = mergeFragments([flags.head, ...files, flags.tail, ...snippets]);
  return buildConfig({ merged, hostName, dev: flags.dev, configPaths: flags.configPaths, configFormat: flags.configFormat, warnings });
}
