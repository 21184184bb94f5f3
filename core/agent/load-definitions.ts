// core/agent/load-definitions.ts — service and check definitions from -config-dir / -config-file,
// read through the disk port.
//
// Owns: nothing of its own any more: which files are read (every *.json and *.hcl in each dir,
// lexical order, no subdirs; then each -config-file), parsing, and errors are core/config/'s.
// This entry point stays for callers that need the definitions alone (reload).
// Must never: parse config itself.
import type { DiskPort } from '../runtime/ports.ts';
import { decodeFile } from '../config/decode.ts';
import { buildDefinitions } from '../config/build.ts';
import { mergeFragments } from '../config/merge.ts';
import { parseSource, readSources } from '../config/load.ts';
import { ConfigError } from '../config/tree.ts';
import type { Definitions } from './checks.ts';

/** What the agent applies from its config files until it reads the whole model (core/config/load.ts). */
const APPLIED_FROM_FILES = new Set(['services', 'checks']);

/**
 * The definitions in these dirs and files. Throws a one-line ConfigError (file:line:col: key:
 * reason) for any bad file. `scriptsAllowed`: enable_script_checks or enable_local_script_checks.
 */
export function loadDefinitions(
  disk: Pick<DiskPort, 'read' | 'list' | 'exists'>,
  dirs: string[],
  files: string[],
  scriptsAllowed = true,
): Definitions {
  const paths = [...dirs.map((path) => ({ kind: 'dir' as const, path })), ...files.map((path) => ({ kind: 'file' as const, path }))];
  const fragments = readSources(disk, paths, '', []).map((src) => {
    const parsed = parseSource(src);
    if (!parsed.ok) throw parsed.error;
    return decodeFile(src.name, parsed.body).fragment;
  });
  const merged = mergeFragments(fragments);
  // Nothing is ignored silently: a setting this agent does not yet take from files is refused.
  for (const [key, setting] of merged) {
    if (APPLIED_FROM_FILES.has(key)) continue;
    const origin = setting.kind === 'list' ? setting.items[0]?.origin : setting.origin;
    throw new ConfigError(
      origin?.file ?? '',
      origin?.pos ?? null,
      origin?.key ?? key,
      'this agent does not apply agent settings from config files yet (only services and checks); give it as a command-line flag',
    );
  }
  return buildDefinitions(merged, scriptsAllowed);
}
