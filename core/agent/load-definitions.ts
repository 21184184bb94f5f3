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
import type { Definitions } from './checks.ts';

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
  return buildDefinitions(mergeFragments(fragments), scriptsAllowed);
}
