// The TUI's data side: log-line parsing, timeline merging, the simulator observer, and the
// walkthrough's two-server bootstrap rendered to a frame (leader with term 1).
import { describe, expect, it } from 'vitest';
import React from 'react';
import { render } from 'ink-testing-library';
import { SimWorld } from '../../sim/world.ts';
import { spawnAgent } from '../../sim/cluster/agents.ts';
import { SimObserver, Timeline, parseLogLine } from '../../sim/tui-model.ts';
import { Screen } from '../../cli/tui/view.tsx';

const names = (addr: string): string => ({ '10.10.105.71': 'n1', '10.10.126.101': 'n2' })[addr.split(':')[0]!] ?? addr;
const stamp = '    2015/07/03 09:18:28';
const ui = { selected: 0, paused: false, speed: 1, message: null, readOnly: false };

describe('log lines → timeline facts', () => {
  it('recognises elections, votes, peers and membership; ignores noise', () => {
    expect(parseLogLine(`${stamp} [INFO] raft: Node at 10.10.126.101:8300 [Candidate] entering Candidate state`, 1, names)).toMatchObject({ kind: 'election', text: 'starts election t1' });
    expect(parseLogLine(`${stamp} [INFO] raft: Election won. Tally: 2`, 1, names)).toMatchObject({ kind: 'won', text: 'wins election t1 (tally 2)' });
    expect(parseLogLine(`${stamp} [WARN] raft: Rejecting vote from 10.10.105.71:8300 since we have a leader: 10.10.126.101:8300`, 3, names)).toMatchObject({
      kind: 'vote-rejected',
      text: 'rejects vote from n1 (leader n2)',
    });
    expect(parseLogLine(`${stamp} [INFO] raft: Added peer 10.10.105.71:8300, starting replication`, 1, names)).toMatchObject({ kind: 'peer-added', text: 'adds peer n1' });
    expect(parseLogLine(`${stamp} [INFO] raft: Removed peer 10.10.126.101:8300, stopping replication (Index: 9)`, 1, names)).toMatchObject({ kind: 'peer-removed', text: 'removes peer n2' });
    expect(parseLogLine(`${stamp} [INFO] consul: New leader elected: n2`, 1, names)).toMatchObject({ kind: 'leader', shared: true });
    expect(parseLogLine(`${stamp} [INFO] serf: EventMemberFailed: n3 10.10.126.187`, null, names)).toMatchObject({ kind: 'failed', text: 'n3 failed' });
    expect(parseLogLine(`${stamp} [INFO] serf: EventMemberLeave: n2 10.10.126.101`, null, names)).toMatchObject({ kind: 'leave', text: 'n2 left' });
    expect(parseLogLine(`${stamp} [INFO] serf: EventMemberJoin: n2.dc1 10.10.126.101`, null, names)).toBeNull(); // WAN pool
    expect(parseLogLine(`${stamp} [INFO] agent: Synced service 'consul'`, null, names)).toBeNull();
    expect(parseLogLine('==> Starting Consul agent...', null, names)).toBeNull();
  });

  it('merges the same fact from several nodes, keeps separate facts apart', () => {
    const t = new Timeline();
    t.addLog({ atMs: 10, node: 'n1', line: `${stamp} [INFO] serf: EventMemberJoin: n3 10.10.126.187`, term: null }, names);
    t.addLog({ atMs: 12, node: 'n2', line: `${stamp} [INFO] serf: EventMemberJoin: n3 10.10.126.187`, term: null }, names);
    t.addLog({ atMs: 20, node: 'n2', line: `${stamp} [INFO] raft: Election won. Tally: 2`, term: 1 }, names);
    t.addLog({ atMs: 9000, node: 'n1', line: `${stamp} [INFO] serf: EventMemberJoin: n3 10.10.126.187`, term: null }, names);
    const ev = t.events();
    expect(ev.map((e) => [e.kind, e.seenBy.join(',')])).toEqual([
      ['join', 'n1,n2'],
      ['won', 'n2'],
      ['join', 'n1'],
    ]);
  });
});

describe('walkthrough bootstrap in the TUI', () => {
  it('two -bootstrap-expect 2 servers: no leader until join, then the winner shows as Leader with term 1', async () => {
    const world = new SimWorld({ seed: 13 });
    world.addHost('10.10.105.71', 'n1');
    world.addHost('10.10.126.101', 'n2');
    const common = ['-server', '-bootstrap-expect', '2', '-data-dir', '/tmp/consul', '-dc=dc1'];
    const agents = [
      spawnAgent(world, '10.10.105.71', [...common, '-node=n1', '-bind=10.10.105.71']),
      spawnAgent(world, '10.10.126.101', [...common, '-node=n2', '-bind=10.10.126.101']),
    ];
    const obs = new SimObserver(world, () => agents, { title: 'walkthrough' });
    obs.advance(3000);
    let m = obs.model();
    expect(m.nodes.map((n) => n.role)).toEqual(['Follower', 'Follower']);
    expect(m.nodes.every((n) => n.term === 0 && n.leader === null)).toBe(true);
    expect(m.events.some((e) => e.kind === 'no-peers')).toBe(true);

    let joined: unknown = null;
    world.httpRequest('10.10.105.71', 'http://127.0.0.1:8500/v1/agent/join/10.10.126.101', { method: 'PUT', timeoutMs: 5000 }, (r) => (joined = r));
    expect(obs.runToNextElection(30_000)).toBe(true);
    obs.advance(500);
    expect(joined).toMatchObject({ ok: true, status: 200 });
    m = obs.model();
    const leaders = m.nodes.filter((n) => n.role === 'Leader');
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    const follower = m.nodes.find((n) => n !== leader)!;
    expect(leader.term).toBe(1);
    expect(follower).toMatchObject({ role: 'Follower', term: 1, leader: leader.name, votedFor: leader.name });
    expect(leader.peers).toEqual(['n1', 'n2']);
    expect(m.events.find((e) => e.kind === 'won')).toMatchObject({ node: leader.name, text: 'wins election t1 (tally 2)' });
    expect(m.events.some((e) => e.kind === 'leader' && e.text === `leader is ${leader.name}`)).toBe(true);

    const { lastFrame, unmount } = render(<Screen model={m} ui={ui} cols={80} rows={24} />);
    const frame = lastFrame()!;
    unmount();
    // The leader's panel: its name, then its address, then "Leader t1".
    const lines = frame.split('\n');
    const col = lines.findIndex((l) => l.includes(`Leader t1`));
    expect(col).toBeGreaterThan(0);
    const at = lines[col]!.indexOf('Leader t1');
    expect(lines[col - 2]!.slice(at, at + 6)).toContain(leader.name);
    expect(lines[col - 1]!.slice(at)).toContain(leader.addr);
    expect(frame).toContain(`${follower.name}: no known peers, not electing`.slice(0, 10));
    expect(frame).toContain(`${leader.name}: wins election t1 (tally 2)`);
    expect(frame).toMatch(/seed 13 · t=\d+\.\d{3}s · trace [0-9a-f]{16}/);
  });

  it('same seed, same trace hash through the observer', () => {
    const run = (): string => {
      const world = new SimWorld({ seed: 3 });
      world.addHost('10.10.105.71', 'n1');
      const a = [spawnAgent(world, '10.10.105.71', ['-server', '-bootstrap', '-data-dir', '/tmp/consul', '-node=n1', '-bind=10.10.105.71'])];
      const obs = new SimObserver(world, () => a);
      obs.advance(2000);
      return obs.model().traceHash!;
    };
    expect(run()).toBe(run());
  });
});
