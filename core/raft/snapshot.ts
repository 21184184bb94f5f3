// core/raft/snapshot.ts — snapshots on this node: writing one (taken by the host, or installed
// from the leader) and compacting the log behind it.
//
// Owns: the snapshot file (one kept: the newest replaces the older), the log compaction that
// keeps `trailingLogs` entries behind a taken snapshot, and installing a leader's snapshot on a
// follower (state machine restored, log and peer set replaced).
// Must never: compact past what was applied, or install a snapshot at or below the commit index.
import { normalizePeers, type RaftContext } from './context.ts';
import { encodeSnapshot, snapshotPath, type SnapshotFile } from './storage.ts';
import type { InstallSnapshotMsg } from './types.ts';

function writeSnapshot(c: RaftContext, snap: SnapshotFile): void {
  const old = c.snapshot;
  c.out.push({ kind: 'persist', path: snapshotPath(snap.index, snap.term), data: encodeSnapshot(snap), mode: 'replace', sync: true });
  c.snapshot = snap;
  if (old && snapshotPath(old.index, old.term) !== snapshotPath(snap.index, snap.term)) {
    c.out.push({ kind: 'removeFile', path: snapshotPath(old.index, old.term) });
  }
}

/** The host took the snapshot it was asked for (any role). */
export function onSnapshotTaken(c: RaftContext, index: number, term: number, data: Uint8Array): void {
  c.snapshotPending = false;
  if (index <= (c.snapshot?.index ?? 0) || index > c.applied) return;
  const t = c.log.term(index) ?? term;
  writeSnapshot(c, { index, term: t, peers: c.peerSet, data });
  const newBase = Math.max(c.log.snapshotIndex, index - c.config.trailingLogs);
  if (newBase > c.log.snapshotIndex) {
    const anchor = c.log.entry(newBase);
    c.log.compactTo(newBase, c.log.term(newBase)!);
    c.rewriteLogFile(anchor);
  }
  c.info(`Snapshot to ${index} complete`);
}

/** A follower installs the leader's snapshot (the caller answers the leader). */
export function installSnapshot(c: RaftContext, from: string, m: InstallSnapshotMsg): void {
  c.info(`Installing snapshot ${m.index} (term ${m.lastTerm}) from ${from}`);
  const snap: SnapshotFile = { index: m.index, term: m.lastTerm, peers: m.peers, data: m.data };
  writeSnapshot(c, snap);
  c.log.compactTo(m.index, m.lastTerm);
  c.rewriteLogFile(null);
  c.out.push({ kind: 'restoreSnapshot', index: m.index, term: m.lastTerm, data: m.data });
  c.setCommit(m.index);
  c.applied = m.index;
  c.configHistory = [{ index: m.index, peers: normalizePeers(m.peers) }];
  c.peerSet = c.configHistory[0]!.peers;
  c.persistPeers(c.peerSet.includes(c.id) ? c.peerSet : [c.id]);
}
