#!/usr/bin/env node
// scripts/cpuprofile-top.mjs — the top entries of a V8 CPU profile (`node --cpu-prof`), as text.
//
// Owns: reading one or more .cpuprofile files and printing self time per function (and per
// source file with --files), largest first, as a share of all samples. Frames in a compiled
// chunk (dist/js) are mapped back to their TypeScript source through the chunk's .map file.
// Must never: need anything beyond Node; it is run by hand and by `muster bench kv --cpu-prof`.
//
// Usage: node scripts/cpuprofile-top.mjs [--top N] [--files] PROFILE…
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const maps = new Map();

/** The source position of a frame in a compiled chunk, or null (no .map next to it). */
function original(file, line, column) {
  if (!file.endsWith('.mjs') || !file.includes('/dist/js/')) return null;
  let map = maps.get(file);
  if (map === undefined) {
    const mapFile = `${file}.map`;
    map = existsSync(mapFile) ? { sm: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))), dir: dirname(file) } : null;
    maps.set(file, map);
  }
  if (map === null) return null;
  const e = map.sm.findEntry(line, column);
  if (!e || !e.originalSource) return null;
  const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : join(map.dir, e.originalSource);
  return { file: relative(ROOT, src), line: e.originalLine };
}

export function topEntries(profiles, { top = 25, byFile = false } = {}) {
  const self = new Map();
  let total = 0;
  for (const prof of profiles) {
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const deltas = prof.timeDeltas ?? [];
    // Each sample's time is the delta to the next one; the last has none (count it as the mean).
    const mean = deltas.length > 0 ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0;
    prof.samples.forEach((id, i) => {
      const node = byId.get(id);
      if (!node) return;
      const us = i + 1 < deltas.length ? deltas[i + 1] : mean;
      const f = node.callFrame;
      let file = (f.url || '').replace(/^file:\/\//, '');
      let line = f.lineNumber;
      const o = file ? original(file, f.lineNumber, f.columnNumber) : null;
      if (o) ({ file, line } = o);
      file = file.replace(/.*\/(node_modules\/)/, '$1');
      const key = byFile ? file || `(${f.functionName || 'native'})` : `${f.functionName || '(anonymous)'}  ${file ? `${file.split('/').slice(-2).join('/')}:${line + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + us);
      total += us;
    });
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs: total / 1000, rows: rows.map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 })) };
}

export function formatTop(result) {
  const lines = [`total ${result.totalMs.toFixed(0)} ms sampled`, '  self%   self ms  function / file'];
  for (const r of result.rows) lines.push(`  ${(r.share * 100).toFixed(1).padStart(5)}  ${r.ms.toFixed(0).padStart(8)}  ${r.name}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const args = process.argv.slice(2);
  let top = 25;
  let byFile = false;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else if (args[i] === '--files') byFile = true;
    else files.push(args[i]);
  }
  if (files.length === 0 || !Number.isInteger(top) || top < 1) {
    console.error('usage: node scripts/cpuprofile-top.mjs [--top N] [--files] PROFILE.cpuprofile…');
    process.exit(2);
  }
  const profiles = files.map((f) => {
    try {
      return JSON.parse(readFileSync(f, 'utf8'));
    } catch (err) {
      console.error(`cpuprofile-top: cannot read ${f}: ${err.message}`);
      process.exit(1);
    }
  });
  console.log(formatTop(topEntries(profiles, { top, byFile })));
}
