// core/agent/load-definitions.ts — reading -config-dir / -config-file through the disk port.
//
// Owns: which files are read (every *.json in each dir, lexical order, no subdirs; then each
// -config-file), and converting parsed definitions into the agent's own records.
// Must never: parse JSON fields itself; core/agent/definitions.ts owns validation and error text.
import type { DiskPort } from '../runtime/ports.ts';
import { DefinitionError, parseConfigFiles, type CheckDefinition, type ServiceDefinition } from './definitions.ts';
import type { CheckDef, Definitions, ServiceDef } from './checks.ts';

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
  return {
    services: parsed.services.map(toServiceDef),
    checks: parsed.checks.map(toCheckDef),
  };
}

export function toCheckDef(d: CheckDefinition): CheckDef {
  const base: CheckDef = {
    id: d.id,
    name: d.name,
    notes: d.notes,
    serviceId: d.serviceId,
    status: d.status,
    deregisterCriticalAfterMs: d.deregisterCriticalServiceAfterMs,
  };
  const p = d.probe;
  switch (p.type) {
    case 'http':
      return { ...base, http: p.url, method: p.method, header: p.header, intervalMs: p.intervalMs, timeoutMs: p.timeoutMs };
    case 'tcp':
      return { ...base, tcp: p.address, intervalMs: p.intervalMs, timeoutMs: p.timeoutMs };
    case 'script':
      return { ...base, args: p.args, intervalMs: p.intervalMs, timeoutMs: p.timeoutMs };
    case 'ttl':
      return { ...base, ttlMs: p.ttlMs };
  }
}

export function toServiceDef(s: ServiceDefinition): ServiceDef {
  return {
    id: s.id,
    name: s.name,
    tags: s.tags,
    address: s.address,
    port: s.port,
    meta: s.meta,
    enableTagOverride: s.enableTagOverride,
    checks: s.checks.map(toCheckDef),
  };
}
