// test/gossip/rules.test.ts — one test per SWIM/Lifeguard/serf rule, on machines stepped by hand.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { encodeMessage } from '../../core/codec/index.ts';
import { makeRng } from '../../core/rng.ts';
import { TransmitLimitedQueue } from '../../core/gossip/broadcast.ts';
import { expectedConfirmations, pushPullScaleMs, retransmitLimit, suspicionRemainingMs, suspicionTimeoutMs } from '../../core/gossip/math.ts';
import { encodedSizeBound, type GossipMessage } from '../../core/gossip/messages.ts';
import { Serf, normalizeAddr, type GossipEffect, type GossipInput } from '../../core/gossip/serf.ts';
import { replaySnapshot } from '../../core/gossip/snapshot.ts';
import { resolveGossipConfig } from '../../core/gossip/config.ts';

function mk(name = 'n1', ip = '10.0.0.1', extra: object = {}): { serf: Serf; step: (i: GossipInput, t?: number) => GossipEffect[] } {
  const serf = Serf.recover({ name, ip, port: 8301, tags: { role: 'node' }, profile: 'lan', ...extra }, null, makeRng('rules'));
  let now = 0;
  const step = (i: GossipInput, t?: number): GossipEffect[] => {
    if (t !== undefined) now = t;
    return serf.step(now, i);
  };
  step({ kind: 'start' });
  return { serf, step };
}

const rx = (msg: GossipMessage, from = '10.0.0.9:8301'): GossipInput => ({ kind: 'receive', from, port: 8301, via: 'udp', msg });
const alive = (node: string, inc: number, ip = '10.0.0.2', meta: Record<string, string> = { role: 'node' }): GossipMessage => ({
  t: 'gossip.alive', inc, node, ip, port: 8301, meta, vsn: [1, 5, 2, 2, 5, 4],
});
const logs = (eff: GossipEffect[]): string[] => eff.flatMap((e) => (e.kind === 'log' ? [`[${e.level}] ${e.source}: ${e.text}`] : []));

describe('formulas (design-anchors §3.3)', () => {
  test('suspicion min/max and retransmits table', () => {
    const rows: [number, number, number, number][] = [
      [3, 4000, 24000, 4],
      [10, 4000, 24000, 8],
      [100, 8000, 48000, 12],
      [1000, 12000, 72000, 16],
      [10000, 16000, 96000, 20],
    ];
    for (const [n, min, max, rt] of rows) {
      const m = suspicionTimeoutMs(4, n, 1000);
      expect(m, `n=${n}`).toBe(min);
      expect(6 * m).toBe(max);
      expect(retransmitLimit(4, n), `n=${n}`).toBe(rt);
    }
    // log10, not ln: n = 20 gives 4 × 1.301 s.
    expect(suspicionTimeoutMs(4, 20, 1000)).toBe(5204);
  });

  test('Lifeguard decay: starts at max, reaches min at k confirmations, monotone', () => {
    expect(suspicionRemainingMs(0, 2, 4000, 24000)).toBe(24000);
    expect(suspicionRemainingMs(2, 2, 4000, 24000)).toBe(4000);
    const one = suspicionRemainingMs(1, 2, 4000, 24000);
    expect(one).toBeGreaterThan(4000);
    expect(one).toBeLessThan(24000);
    expect(one).toBe(Math.floor(24000 - (Math.log(2) / Math.log(3)) * 20000));
    expect(suspicionRemainingMs(0, 0, 4000, 24000)).toBe(4000);
    expect(expectedConfirmations(4, 3)).toBe(0);
    expect(expectedConfirmations(4, 4)).toBe(2);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 9 }), (k, c) => {
        const a = suspicionRemainingMs(Math.min(c, k), k, 1000, 6000);
        const b = suspicionRemainingMs(Math.min(c + 1, k), k, 1000, 6000);
        return b <= a && a >= 1000 && a <= 6000;
      }),
    );
  });

  test('push-pull interval scales once n > 32', () => {
    expect(pushPullScaleMs(30000, 32)).toBe(30000);
    expect(pushPullScaleMs(30000, 33)).toBe(60000);
    expect(pushPullScaleMs(30000, 100)).toBe(90000);
    expect(pushPullScaleMs(30000, 1000)).toBe(180000);
  });

  test('config: profiles, overrides and clear errors', () => {
    const wan = resolveGossipConfig({ name: 'n1.dc1', ip: '10.0.0.1', port: 8302, tags: {}, profile: 'wan' });
    expect([wan.probeIntervalMs, wan.probeTimeoutMs, wan.suspicionMult, wan.gossipIntervalMs, wan.gossipNodes, wan.snapshotPath]).toEqual([5000, 3000, 6, 500, 4, 'serf/remote.snapshot']);
    expect(resolveGossipConfig({ name: 'n1', ip: '10.0.0.1', port: 8301, tags: {}, profile: 'lan', probeIntervalMs: 2000 }).probeIntervalMs).toBe(2000);
    expect(() => resolveGossipConfig({ name: 'n1', ip: 'x', port: 8301, tags: {}, profile: 'lan' })).toThrow(/ip 'x'/);
    expect(() => resolveGossipConfig({ name: 'n1', ip: '10.0.0.1', port: 8301, tags: {}, profile: 'lan', probeTimeoutMs: 5000 })).toThrow(/exceeds/);
    expect(normalizeAddr('10.0.0.2', 8301)).toBe('10.0.0.2:8301');
    expect(normalizeAddr('10.0.0.2:9000', 8301)).toBe('10.0.0.2:9000');
    expect(normalizeAddr('host.example', 8301)).toMatchObject({ error: expect.stringMatching(/not an IPv4/) });
  });
});

describe('broadcast queue', () => {
  test('each broadcast goes out exactly retransmitLimit times, newer invalidates older', () => {
    const q = new TransmitLimitedQueue(4);
    q.queue('node:a', alive('a', 1) as never);
    let sent = 0;
    for (let i = 0; i < 50; i++) sent += q.getBroadcasts(0, 1400, 100).length;
    expect(sent).toBe(retransmitLimit(4, 100));
    expect(q.length).toBe(0);
    q.queue('node:a', alive('a', 1) as never);
    q.getBroadcasts(0, 1400, 100);
    q.queue('node:a', alive('a', 2) as never);
    expect(q.length).toBe(1);
    expect(q.transmitsOf('node:a')).toBe(0);
    const [m] = q.getBroadcasts(0, 1400, 100);
    expect((m as { inc: number }).inc).toBe(2);
  });

  test('fewest-transmits first, and never more than the byte limit', () => {
    const q = new TransmitLimitedQueue(4);
    for (let i = 0; i < 30; i++) q.queue(`node:n${i}`, alive(`n${i}`, 1) as never);
    const first = q.getBroadcasts(0, 400, 30);
    const bytes = first.reduce((s, m) => s + encodedSizeBound(m), 0);
    expect(bytes).toBeLessThanOrEqual(400);
    expect(first.length).toBeGreaterThan(0);
    const second = q.getBroadcasts(0, 400, 30);
    for (const m of second) expect(first).not.toContain(m);
  });

  test('size bound is an upper bound of the wire encoding', () => {
    const str = fc.string({ maxLength: 40 });
    const meta = fc.dictionary(fc.string({ maxLength: 12 }), str, { maxKeys: 8 });
    fc.assert(
      fc.property(str, fc.integer({ min: 0, max: 2 ** 40 }), meta, (node, inc, m) => {
        const msg = { t: 'gossip.compound', parts: [{ t: 'gossip.alive', inc, node, ip: '10.0.0.1', port: 8301, meta: m, vsn: [1, 5, 2, 2, 5, 4] }, { t: 'gossip.ping', seq: inc, node }] };
        return encodeMessage(msg).length <= encodedSizeBound(msg) + 2;
      }),
    );
  });
});

describe('incarnations, suspicion, refutation', () => {
  test('higher incarnation wins; at equal incarnation suspect beats alive and dead beats both', () => {
    const { serf, step } = mk();
    step(rx(alive('n2', 1)));
    const st = () => serf.ml.nodes.get('n2')!;
    expect(st().state).toBe('alive');
    step(rx({ t: 'gossip.suspect', inc: 0, node: 'n2', from: 'x' }));
    expect(st().state).toBe('alive'); // stale
    step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'x' }));
    expect(st().state).toBe('suspect');
    step(rx(alive('n2', 1)));
    expect(st().state).toBe('suspect'); // equal inc alive does not clear suspicion
    step(rx(alive('n2', 2)));
    expect(st().state).toBe('alive');
    step(rx({ t: 'gossip.dead', inc: 1, node: 'n2', from: 'x' }));
    expect(st().state).toBe('alive'); // stale dead
    step(rx({ t: 'gossip.dead', inc: 2, node: 'n2', from: 'x' }));
    expect(st().state).toBe('dead');
    step(rx(alive('n2', 2)));
    expect(st().state).toBe('dead');
    step(rx(alive('n2', 3)));
    expect(st().state).toBe('alive');
  });

  test('a suspect or dead message about ourselves is refuted with a higher incarnation', () => {
    const { serf, step } = mk();
    const eff = step(rx({ t: 'gossip.suspect', inc: 5, node: 'n1', from: 'n2' }));
    expect(serf.ml.self.incarnation).toBe(6);
    expect(serf.ml.self.state).toBe('alive');
    expect(logs(eff)).toContain('[WARN] memberlist: Refuting a suspect message (from: n2)');
    expect(serf.stats().health_score).toBe('1');
    step(rx({ t: 'gossip.dead', inc: 6, node: 'n1', from: 'n3' }));
    expect(serf.ml.self.incarnation).toBe(7);
    expect(serf.ml.counters.refutes).toBe(2);
  });

  test('suspicion timer: independent confirmations shorten it; the timeout marks the node failed', () => {
    const { serf, step } = mk();
    for (let i = 2; i <= 5; i++) step(rx(alive(`n${i}`, 1, `10.0.0.${i}`)));
    const out = step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n3' }), 1000);
    const timer = out.find((e) => e.kind === 'timer' && e.name === 'ml.suspect:n2') as { atMs: number };
    // n = 5: min 4 s, max 24 s, k = 2; the timer starts at max.
    expect(timer.atMs).toBe(1000 + 24000);
    const dup = step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n3' }), 1100);
    expect(dup.find((e) => e.kind === 'timer' && e.name === 'ml.suspect:n2')).toBeUndefined();
    step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n4' }), 1200);
    const last = step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n5' }), 1300);
    const t2 = last.find((e) => e.kind === 'timer' && e.name === 'ml.suspect:n2') as { atMs: number };
    expect(t2.atMs).toBe(1000 + 4000);
    const fired = step({ kind: 'timer', name: 'ml.suspect:n2' }, 5000);
    expect(logs(fired)).toContain('[INFO] memberlist: Marking n2 as failed, suspect timeout reached (2 peer confirmations)');
    expect(logs(fired)).toContain('[INFO] serf: EventMemberFailed: n2 10.0.0.2');
    expect(serf.members().find((m) => m.name === 'n2')!.status).toBe('failed');
    expect(serf.stats().failed).toBe('1');
  });

  test('plain SWIM (lifeguard off) uses the fixed minimum and no health score', () => {
    const { serf, step } = mk('n1', '10.0.0.1', { lifeguard: false });
    for (let i = 2; i <= 5; i++) step(rx(alive(`n${i}`, 1, `10.0.0.${i}`)));
    const out = step(rx({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n3' }), 1000);
    expect((out.find((e) => e.kind === 'timer' && e.name === 'ml.suspect:n2') as { atMs: number }).atMs).toBe(5000);
    step(rx({ t: 'gossip.suspect', inc: 9, node: 'n1', from: 'n3' }), 1000);
    expect(serf.stats().health_score).toBe('0');
  });
});

describe('Lifeguard probing (local health, buddy system)', () => {
  /** Two members; probe n2 and let the probe fail (no ack): returns the effects of the next probe tick. */
  function failedProbe(lifeguard: boolean) {
    const { serf, step } = mk('n1', '10.0.0.1', { lifeguard, disableTcpPings: true });
    step(rx(alive('n2', 1, '10.0.0.2')));
    step({ kind: 'timer', name: 'ml.probe' }, 1000);
    step({ kind: 'timer', name: 'ml.probeTimeout' }, 1500);
    // The ack never came: the next tick gives up on n2 and probes it again (the only other member).
    const next = step({ kind: 'timer', name: 'ml.probe' }, 2000);
    const pings = next.filter((e): e is Extract<GossipEffect, { kind: 'send' }> => e.kind === 'send' && e.to === '10.0.0.2:8301');
    const parts = pings.flatMap((e) => (e.msg.t === 'gossip.compound' ? e.msg.parts : [e.msg]));
    const timeout = next.find((e) => e.kind === 'timer' && e.name === 'ml.probeTimeout') as { atMs: number } | undefined;
    const tick = next.find((e) => e.kind === 'timer' && e.name === 'ml.probe') as { atMs: number };
    return { serf, parts, timeoutAtMs: timeout?.atMs, tickAtMs: tick.atMs };
  }

  test('a failed probe with nobody to nack raises local health and stretches the next probe; SWIM stays fixed', () => {
    const lg = failedProbe(true);
    expect(lg.serf.stats().health_score).toBe('1');
    expect(lg.serf.ml.suspectsRaised.get('n2')).toBe(1);
    expect(lg.tickAtMs).toBe(2000 + 2 * 1000);
    expect(lg.timeoutAtMs).toBe(2000 + 2 * 500);
    const swim = failedProbe(false);
    expect(swim.serf.stats().health_score).toBe('0');
    expect(swim.serf.ml.suspectsRaised.get('n2')).toBe(1);
    expect(swim.tickAtMs).toBe(3000);
    expect(swim.timeoutAtMs).toBe(2500);
  });

  test('buddy system: a ping to a suspect leads with the suspicion under Lifeguard, not under plain SWIM', () => {
    const suspects = (parts: { t: string; node?: string }[]): number => parts.filter((m) => m.t === 'gossip.suspect' && m.node === 'n2').length;
    const lg = failedProbe(true);
    const swim = failedProbe(false);
    expect(lg.parts[0]!.t).toBe('gossip.ping');
    expect(lg.parts[1]).toEqual({ t: 'gossip.suspect', inc: 1, node: 'n2', from: 'n1' });
    expect(swim.parts[0]!.t).toBe('gossip.ping');
    // Both piggyback the queued suspicion as an ordinary broadcast; only Lifeguard adds the buddy copy.
    expect(suspects(lg.parts)).toBe(suspects(swim.parts) + 1);
  });
});

describe('serf statuses and intents', () => {
  test('leave intent then left: alive → leaving → left, never failed', () => {
    const { serf, step } = mk();
    step(rx(alive('n2', 1)));
    step(rx({ t: 'gossip.leaveIntent', ltime: 10, node: 'n2' }));
    expect(serf.members().find((m) => m.name === 'n2')!.status).toBe('leaving');
    const eff = step(rx({ t: 'gossip.dead', inc: 1, node: 'n2', from: 'n2' }));
    expect(logs(eff)).toContain('[INFO] serf: EventMemberLeave: n2 10.0.0.2');
    expect(serf.members().find((m) => m.name === 'n2')!.status).toBe('left');
    expect(eff).toContainEqual(expect.objectContaining({ kind: 'memberEvent', type: 'leave' }));
  });

  test('stale leave intents are ignored; a failed node force-left becomes left', () => {
    const { serf, step } = mk();
    step(rx(alive('n2', 1)));
    step(rx({ t: 'gossip.joinIntent', ltime: 20, node: 'n2' }));
    step(rx({ t: 'gossip.leaveIntent', ltime: 15, node: 'n2' }));
    expect(serf.members().find((m) => m.name === 'n2')!.status).toBe('alive');
    step(rx({ t: 'gossip.dead', inc: 1, node: 'n2', from: 'n3' }));
    expect(serf.members().find((m) => m.name === 'n2')!.status).toBe('failed');
    const eff = step({ kind: 'forceLeave', node: 'n2' });
    expect(logs(eff)).toContain('[INFO] serf: EventMemberLeave: n2 10.0.0.2');
    expect(serf.stats()).toMatchObject({ failed: '0', left: '1' });
  });

  test('a leave intent about ourselves while alive is refuted by a newer join intent', () => {
    const { serf, step } = mk();
    step(rx(alive('n2', 1)));
    const before = Number(serf.stats().member_time);
    const eff = step(rx({ t: 'gossip.leaveIntent', ltime: before + 5, node: 'n1' }));
    expect(serf.localMember().status).toBe('alive');
    expect(Number(serf.stats().member_time)).toBeGreaterThan(before + 5);
    expect(serf.stats().intent_queue).toBe('1');
    void eff;
  });

  test('failed members are reaped after reconnectTimeout, left ones after tombstoneTimeout', () => {
    const { serf, step } = mk('n1', '10.0.0.1', { reconnectTimeoutMs: 60_000, tombstoneTimeoutMs: 120_000 });
    step(rx(alive('n2', 1)));
    step(rx(alive('n3', 1, '10.0.0.3')));
    step(rx({ t: 'gossip.dead', inc: 1, node: 'n2', from: 'n3' }), 1000);
    step(rx({ t: 'gossip.dead', inc: 1, node: 'n3', from: 'n3' }), 1000);
    expect(serf.members().map((m) => `${m.name}=${m.status}`)).toEqual(['n1=alive', 'n2=failed', 'n3=left']);
    step({ kind: 'timer', name: 'serf.reap' }, 50_000);
    expect(serf.members()).toHaveLength(3);
    const r1 = step({ kind: 'timer', name: 'serf.reap' }, 62_000);
    expect(logs(r1)).toContain('[INFO] serf: EventMemberReap: n2');
    expect(serf.members().map((m) => m.name)).toEqual(['n1', 'n3']);
    step({ kind: 'timer', name: 'serf.reap' }, 122_000);
    expect(serf.members().map((m) => m.name)).toEqual(['n1']);
  });

  test('a WAN pool member is named node.dc and uses WAN timings', () => {
    const serf = Serf.recover({ name: 'n1.dc1', ip: '10.10.105.71', port: 8302, tags: { role: 'consul', dc: 'dc1' }, profile: 'wan' }, null, makeRng('wan'));
    const eff = serf.step(0, { kind: 'start' });
    expect(logs(eff)).toContain('[INFO] serf: EventMemberJoin: n1.dc1 10.10.105.71');
    expect(eff).toContainEqual(expect.objectContaining({ kind: 'persist', path: 'serf/remote.snapshot' }));
    const probe = eff.find((e) => e.kind === 'timer' && e.name === 'ml.probe') as { atMs: number };
    expect(probe.atMs).toBeLessThan(5000);
    expect(serf.localMember()).toMatchObject({ name: 'n1.dc1', addr: '10.10.105.71', port: 8302, status: 'alive' });
    const join = serf.step(1, { kind: 'join', reqId: 1, addrs: ['10.10.126.101'] });
    expect(join).toContainEqual(expect.objectContaining({ kind: 'send', to: '10.10.126.101:8302', via: 'tcp' }));
  });

  test('join answers errors for bad addresses without dialing', () => {
    const { step } = mk();
    const eff = step({ kind: 'join', reqId: 4, addrs: ['nope'] });
    expect(eff).toContainEqual({ kind: 'joinResult', reqId: 4, contacted: 0, errors: [expect.stringMatching(/'nope' is not an IPv4/)] });
    expect(eff.some((e) => e.kind === 'send')).toBe(false);
  });
});

describe('snapshot', () => {
  const text = 'alive: n1 10.0.0.1:8301\nalive: n2 10.0.0.2:8301\nclock: 7\nnot-alive: n1\nalive: n3 10.0.0.3:8301\nevent-clock: 3\n';

  test('replay keeps alive nodes in order and the last clocks', () => {
    const r = replaySnapshot(text, false);
    expect(r.previous).toEqual([{ name: 'n2', addr: '10.0.0.2:8301' }, { name: 'n3', addr: '10.0.0.3:8301' }]);
    expect([r.lastClock, r.lastEventClock, r.leftGracefully]).toEqual([7, 3, false]);
  });

  test('a leave marker forgets everyone unless rejoin is set', () => {
    const left = replaySnapshot(text + 'leave\n', false);
    expect(left.previous).toEqual([]);
    expect(left.lastClock).toBe(0);
    expect(left.leftGracefully).toBe(true);
    const rejoin = replaySnapshot(text + 'leave\n', true);
    expect(rejoin.previous.map((p) => p.name)).toEqual(['n2', 'n3']);
    expect(rejoin.ignoredLeave).toBe(true);
    // Nodes seen after the leave (a later run) are remembered again.
    expect(replaySnapshot(text + 'leave\nalive: n4 10.0.0.4:8301\n', false).previous.map((p) => p.name)).toEqual(['n4']);
  });

  test('torn or unknown lines become warnings, never dial targets', () => {
    const r = replaySnapshot('alive: n1 10.0.0.1:8301\nalive: n2 10.0.0.2\nbogus\n', false);
    expect(r.previous.map((p) => p.name)).toEqual(['n1']);
    expect(r.warnings).toHaveLength(2);
  });

  test('a restarted machine rejoins from its snapshot, or not after a leave', () => {
    const snap = new TextEncoder().encode(text);
    const s1 = Serf.recover({ name: 'n9', ip: '10.0.0.9', port: 8301, tags: {}, profile: 'lan' }, snap, makeRng('x'));
    const eff = s1.step(0, { kind: 'start' });
    expect(eff).toContainEqual(expect.objectContaining({ kind: 'send', to: '10.0.0.2:8301', via: 'tcp' }));
    expect(Number(s1.stats().member_time)).toBeGreaterThan(7);
    const s2 = Serf.recover({ name: 'n9', ip: '10.0.0.9', port: 8301, tags: {}, profile: 'lan' }, new TextEncoder().encode(text + 'leave\n'), makeRng('x'));
    expect(s2.step(0, { kind: 'start' }).some((e) => e.kind === 'send')).toBe(false);
  });
});
