// core/agent/load-definitions.ts — reading -config-dir / -config-file through the disk port.
//
// Owns: which files are read (every *.json in each dir, lexical order, no subdirs; then each
// -config-file).
// Must never: parse JSON fields itself; core/agent/definitions.ts owns validation and error text.
import type { DiskPort } from '../runtime/ports.ts';
import { DefinitionError, parseConfigFiles } from './definitions.ts';
import type { Definitions } from './checks.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

export function loadDefinitions(disk: Pick<DiskPort, 'read' | 'list' | 'exists'>, dirs: string[], files: string[]): Definitions {
  const inputs: Array<{ fileName: string; text: string }> = [];
  for (const dir of dirs) {
    const clean = dir.replace(/\/+$/, '');
    if (!disk.exists(clean)) throw new DefinitionError(clean, '', 'config directory does not exist');
    for (const name of disk.list(clean).filter((n) => n.endsWith('.json')).sort()) {
      const bytes = disk.read(`${clean}/${name}`);
      if (bytes === null) continue;
      inputs.push({ fileName: `${clean}/${name}`, text: decoder.decode(bytes) });
    }
  }
  for (const f of files) {
    const bytes = disk.read(f);
    if (bytes === null) throw new DefinitionError(f, '', 'config file does not exist or cannot be read');
    inputs.push({ fileName: f, text: decoder.decode(bytes) });
  }
  const parsed = parseConfigFiles(inputs);
  return { services: parsed.services, checks: parsed.checks };
}
