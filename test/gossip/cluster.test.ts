// test/gossip/cluster.test.ts — gossip pools in the simulator (SimWorld + Host + wire codec):
// join, leave, fail, restart with and without -rejoin, partition and heal.
import { describe, expect, test } from 'vitest';
import { GossipCluster } from '../../sim/gossip/cluster.ts';

const SEED = process.env.GOSSIP_SEED ?? 'gossip-cluster-1';
const replay = `GOSSIP_SEED=${SEED} npx vitest run test/gossip/cluster.test.ts`;

function why(c: GossipCluster): string {
  const views = c.nodes.map((n) => `${n.name}: ${(n.serf?.members() ?? []).map((m) => `${m.name}=${m.status}`).join(' ')}`);
  return `seed ${SEED} (replay: ${replay})\n${views.join('\n')}`;
}

function threeJoined(seed = SEED): GossipCluster {
  const c = new GossipCluster({ seed, nodes: 3 });
  c.startAll();
  c.world.runFor(100);
  const r1 = c.join('n1', [c.node('n2').ip]);
  const r3 = c.join('n3', [c.node('n1').ip]);
  c.world.runUntilTrue(() => c.converged(), 10_000);
  expect(c.joinResults.get(r1), why(c)).toMatchObject({ contacted: 1, errors: [] });
  expect(c.joinResults.get(r3), why(c)).toMatchObject({ contacted: 1, errors: [] });
  expect(c.converged(), why(c)).toBe(true);
  return c;
}

describe('gossip pool in the simulator', () => {
  test('three nodes join; logs and join answers match Consul', () => {
    const c = threeJoined();
    const out1 = c.output('n1').join('\n');
    expect(out1).toContain('[INFO] serf: EventMemberJoin: n1 10.1.0.1');
    expect(out1).toContain('[INFO] serf: EventMemberJoin: n2 10.1.0.2');
    expect(out1).toContain('[INFO] serf: EventMemberJoin: n3 10.1.0.3');
    // Joining a dead address reports how many were reached and why the others failed.
    const bad = c.join('n1', ['10.9.9.9', c.node('n2').ip + ':8301']);
    c.world.runUntilTrue(() => c.joinResults.has(bad), 15_000);
    const r = c.joinResults.get(bad)!;
    expect(r.contacted, why(c)).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^dial tcp 10\.9\.9\.9:8301: /);
    // A stopped agent's address is refused (a crashed host would time out instead).
    c.stop('n3');
    c.world.runFor(10);
    const refused = c.join('n1', [c.node('n3').ip]);
    c.world.runUntilTrue(() => c.joinResults.has(refused), 15_000);
    expect(c.joinResults.get(refused)).toMatchObject({ contacted: 0, errors: ['dial tcp 10.1.0.3:8301: connect: connection refused'] });
  });

  test('graceful leave: peers see left (not failed), the leaver logs its own leave, snapshot ends in leave', () => {
    const c = threeJoined();
    const req = c.leave('n2');
    c.world.runUntilTrue(() => c.leaveDone.has(req), 10_000);
    expect(c.leaveDone.has(req), why(c)).toBe(true);
    c.world.runFor(3000);
    expect(c.statusOf('n1', 'n2'), why(c)).toBe('left');
    expect(c.statusOf('n3', 'n2'), why(c)).toBe('left');
    expect(c.events.filter((e) => e.member === 'n2' && e.type === 'failed')).toEqual([]);
    expect(c.output('n1').join('\n')).toContain('[INFO] serf: EventMemberLeave: n2 10.1.0.2');
    expect(c.output('n2').join('\n')).toContain('[INFO] serf: EventMemberLeave: n2 10.1.0.2');
    expect(c.diskText('n2')!.trimEnd().split('\n').at(-1)).toBe('leave');
    // Left members are not reconnected: nobody tries to dial n2.
    c.world.runFor(65_000);
    expect(c.output('n1').join('\n')).not.toContain('attempting reconnect to n2');
  });

  test('a crashed node is marked failed with memberlist log lines, then rejoins by itself after restart (snapshot)', () => {
    const c = threeJoined();
    const t0 = c.world.nowMs();
    c.crash('n3');
    const ok = c.world.runUntilTrue(() => c.statusOf('n1', 'n3') === 'failed' && c.statusOf('n2', 'n3') === 'failed', 60_000);
    expect(ok, why(c)).toBe(true);
    const detectMs = c.world.nowMs() - t0;
    // Lifeguard with n = 3: no confirmations expected, so the 4 s minimum applies after ≤ 2 probe rounds.
    expect(detectMs).toBeLessThan(10_000);
    const all = [...c.output('n1'), ...c.output('n2')].join('\n');
    expect(all).toMatch(/\[INFO\] memberlist: Suspect n3 has failed, no acks received/);
    expect(all).toMatch(/\[INFO\] memberlist: Marking n3 as failed, suspect timeout reached \(\d peer confirmations\)/);
    expect(all).toContain('[INFO] serf: EventMemberFailed: n3 10.1.0.3');
    // After a crash (no leave marker) the restarted node rejoins its previously known nodes.
    c.start('n3');
    const back = c.world.runUntilTrue(() => c.converged(), 20_000);
    expect(back, why(c)).toBe(true);
    expect(c.output('n3').join('\n')).toMatch(/\[INFO\] serf: Re-joined to previously known node: n[12]: 10\.1\.0\.[12]:8301/);
  });

  test('restart after a graceful leave stays alone unless rejoin is set (the walkthrough)', () => {
    const c = threeJoined();
    const req = c.leave('n2');
    c.world.runUntilTrue(() => c.leaveDone.has(req), 10_000);
    c.world.runFor(2000);
    c.start('n2');
    c.world.runFor(5000);
    expect(c.node('n2').serf!.members().map((m) => m.name), why(c)).toEqual(['n2']);
    expect(c.output('n2').join('\n')).not.toContain('Re-joined');
    expect(c.statusOf('n1', 'n2')).toBe('left');
    // Now leave again and restart with -rejoin: it finds n1/n3 from the snapshot.
    const c2 = threeJoined('gossip-cluster-rejoin');
    const req2 = c2.leave('n2');
    c2.world.runUntilTrue(() => c2.leaveDone.has(req2), 10_000);
    c2.world.runFor(2000);
    c2.start('n2', { rejoin: true });
    const ok = c2.world.runUntilTrue(() => c2.converged(), 20_000);
    expect(ok, why(c2)).toBe(true);
    const out = c2.output('n2').join('\n');
    expect(out).toContain('[INFO] serf: Ignoring previous leave in snapshot');
    expect(out).toMatch(/\[INFO\] serf: Re-joined to previously known node: n[13]: /);
    expect(c2.statusOf('n1', 'n2')).toBe('alive');
  });

  test('rejoin with every known node down logs the serf warning', () => {
    const c = threeJoined();
    c.crash('n1');
    c.crash('n2');
    c.crash('n3');
    c.start('n3');
    c.world.runFor(25_000);
    expect(c.output('n3').join('\n')).toContain('[WARN] serf: Failed to re-join any previously known node');
  });

  test('a partition splits the view (failed on both sides) and healing merges it back', () => {
    const c = new GossipCluster({ seed: SEED, nodes: 5 });
    c.startAll();
    c.world.runFor(100);
    for (let i = 1; i < 5; i++) c.join(i, [c.node(0).ip]);
    expect(c.world.runUntilTrue(() => c.converged(), 20_000), why(c)).toBe(true);
    const left = ['n1', 'n2', 'n3'].map((x) => c.node(x).ip);
    const right = ['n4', 'n5'].map((x) => c.node(x).ip);
    c.world.net.partition([left, right]);
    const split = c.world.runUntilTrue(
      () => ['n1', 'n2', 'n3'].every((a) => ['n4', 'n5'].every((b) => c.statusOf(a, b) === 'failed' && c.statusOf(b, a) === 'failed')),
      120_000,
    );
    expect(split, why(c)).toBe(true);
    expect(c.statusOf('n1', 'n2')).toBe('alive');
    expect(c.statusOf('n4', 'n5')).toBe('alive');
    c.world.net.heal();
    // Serf retries failed members every 30 s; one success merges both sides through push-pull.
    const merged = c.world.runUntilTrue(() => c.converged(), 180_000);
    expect(merged, why(c)).toBe(true);
  });

  test('tag changes reach peers as EventMemberUpdate', () => {
    const c = threeJoined();
    c.node('n2').host!.deliver({ kind: 'setTags', tags: { role: 'node', dc: 'dc1', build: '0.5.2' } });
    const ok = c.world.runUntilTrue(() => c.node('n1').serf!.members().find((m) => m.name === 'n2')?.tags.build === '0.5.2', 5000);
    expect(ok, why(c)).toBe(true);
    expect(c.output('n1').join('\n')).toContain('[INFO] serf: EventMemberUpdate: n2');
  });

  test('same seed, same trace', () => {
    const run = (): string => {
      const c = new GossipCluster({ seed: 'trace-seed', nodes: 4, traceEnabled: true });
      c.startAll();
      c.world.runFor(100);
      for (let i = 1; i < 4; i++) c.join(i, [c.node(0).ip]);
      c.world.runFor(5000);
      c.crash('n4');
      c.world.runFor(15_000);
      return c.world.traceHash();
    };
    expect(run()).toBe(run());
  });
});
