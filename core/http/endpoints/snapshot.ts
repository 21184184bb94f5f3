// core/http/endpoints/snapshot.ts — GET /v1/snapshot (save) and PUT /v1/snapshot (restore).
//
// Owns: wrapping the servers' catalog snapshot in Consul's archive layout on save (with
// X-Consul-Index and the query-meta headers), and on restore checking the archive before
// anything reaches Raft: a damaged or foreign file is a 400 naming the problem and nothing
// changes; the restore itself is one Raft command that replaces the catalog.
// Must never: restore partially; the catalog's restore command is all or nothing.
import { ArchiveError, readArchive, writeArchive } from '../../catalog/archive.ts';
import type { SnapshotValue } from '../../rpc/query.ts';
import { read, respond, write, type Call } from '../call.ts';
import { empty, metaHeaders, text } from '../respond.ts';
import type { HttpOutcome } from '../types.ts';

export function snapshot(call: Call): HttpOutcome {
  if (call.req.method === 'GET') {
    return read(call, { q: 'snapshot' }, (v, meta) => {
      const s = v as SnapshotValue;
      return {
        status: 200,
        headers: { 'Content-Type': 'application/octet-stream', ...metaHeaders({ ...meta, index: s.Index }) },
        body: writeArchive(s.Data, s.Index, `muster-${s.Index}-${Math.floor(call.ctx.nowMs)}`),
      };
    });
  }
  let state: Uint8Array;
  try {
    state = readArchive(call.req.body).state;
  } catch (e) {
    if (e instanceof ArchiveError) return respond(text(400, `Failed to restore snapshot: ${e.message}`));
    throw e;
  }
  return write(call, { op: 'restore', nowMs: call.ctx.nowMs, snapshot: state }, () => empty(200));
}
