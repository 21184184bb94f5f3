// test/gossip/user-events.test.ts — serf user events: Lamport-stamped, de-duplicated in a
// 512-slot buffer, limited to 512 bytes, gossiped and carried by push-pull; in the simulator.
import { describe, expect, test } from 'vitest';
import { makeRng } from '../../core/rng.ts';
import { Serf, type GossipEffect, type GossipInput } from '../../core/gossip/serf.ts';
import { EVENT_BUFFER_SIZE, UserEventBuffer } from '../../core/gossip/user-events.ts';
import { GossipCluster } from '../../sim/gossip/cluster.ts';

const SEED = process.env.GOSSIP_SEED ?? 'user-events-1';
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function joined(nodes: number, seed = SEED, link = {}): GossipCluster {
  const c = new GossipCluster({ seed, nodes, link });
  c.startAll();
  c.world.runFor(100);
  for (let i = 1; i < nodes; i++) c.join(i, [c.node(0).ip]);
  expect(c.world.runUntilTrue(() => c.converged(), 30_000), `seed ${seed}: pool did not converge`).toBe(true);
  return c;
}

const deliveries = (c: GossipCluster, name: string) => c.userEvents.filter((e) => e.name === name);

function serfAlone(): { serf: Serf; step: (i: GossipInput, t?: number) => GossipEffect[] } {
  const serf = Serf.recover({ name: 'n1', ip: '10.0.0.1', port: 8301, tags: {}, profile: 'lan' }, null, makeRng('ue'));
  let now = 0;
  const step = (i: GossipInput, t?: number): GossipEffect[] => serf.step(t === undefined ? now : (now = t), i);
  step({ kind: 'start' });
  return { serf, step };
}

describe('serf user events', () => {
  test('an event fired on one node is delivered exactly once on every node, at one Lamport time, despite loss and duplication', () => {
    const c = joined(10, SEED, { loss: 0.1, duplicate: 0.2 });
    const req = c.fireEvent('n4', 'deploy', 'v1.2');
    c.world.runFor(1);
    expect(c.userEventResults.get(req)).toBeNull();
    c.world.runUntilTrue(() => deliveries(c, 'deploy').length >= 10, 10_000);
    c.world.runFor(40_000); // retransmits and push-pulls must not deliver it again
    const got = deliveries(c, 'deploy');
    expect(got.map((e) => e.at).sort()).toEqual(c.nodes.map((n) => n.name).sort());
    expect(new Set(got.map((e) => e.ltime)).size).toBe(1);
    expect(got.every((e) => e.payload === 'v1.2')).toBe(true);
    expect(Math.max(...got.map((e) => e.atMs)) - got[0]!.atMs, 'spread over the pool within a few gossip rounds').toBeLessThan(3000);
  });

  test('Lamport order: later events get later times on every node, even from different origins', () => {
    const c = joined(4);
    c.fireEvent('n1', 'a', '1');
    c.world.runFor(2000);
    c.fireEvent('n3', 'b', '2');
    c.world.runFor(2000);
    c.fireEvent('n2', 'c', '3');
    c.world.runFor(3000);
    const t = (name: string) => deliveries(c, name)[0]!.ltime;
    expect(t('a')).toBeLessThan(t('b'));
    expect(t('b')).toBeLessThan(t('c'));
    for (const n of c.nodes) expect(c.userEvents.filter((e) => e.at === n.name).map((e) => e.name)).toEqual(['a', 'b', 'c']);
  });

  test('size limit (512 bytes, as Consul): a larger event is refused with serf\'s error and never sent', () => {
    const c = joined(3);
    const big = c.fireEvent('n1', 'big', 'x'.repeat(510)); // 3 + 510 bytes
    const ok = c.fireEvent('n1', 'fits', 'x'.repeat(400));
    c.world.runFor(3000);
    expect(c.userEventResults.get(big)).toBe('user event exceeds configured limit of 512 bytes before encoding');
    expect(c.userEventResults.get(ok)).toBeNull();
    expect(deliveries(c, 'big')).toEqual([]);
    expect(deliveries(c, 'fits')).toHaveLength(3);
  });

  test('a node cut off while the event spread gets it by push-pull after the heal', () => {
    const c = joined(5);
    const cut = c.node('n5').ip;
    c.world.net.partition([[cut], c.nodes.filter((n) => n.name !== 'n5').map((n) => n.ip)]);
    c.fireEvent('n1', 'while-cut', 'p');
    c.world.runFor(20_000); // the broadcast's retransmits run out meanwhile
    expect(deliveries(c, 'while-cut').map((e) => e.at).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    c.world.net.heal();
    c.world.runUntilTrue(() => deliveries(c, 'while-cut').length === 5, 120_000);
    expect(deliveries(c, 'while-cut').map((e) => e.at).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
  });

  test('a new member ignores old events on join (Consul joins with ignoreOld); a restarted one does not replay them', () => {
    const c = new GossipCluster({ seed: SEED, nodes: 4 });
    for (const i of [0, 1, 2]) c.start(i);
    c.world.runFor(100);
    c.join(1, [c.node(0).ip]);
    c.join(2, [c.node(0).ip]);
    c.world.runFor(5000);
    c.fireEvent('n1', 'old', 'x');
    c.world.runFor(5000);
    expect(deliveries(c, 'old')).toHaveLength(3);
    c.start(3);
    c.world.runFor(100);
    c.join(3, [c.node(1).ip]);
    c.world.runFor(70_000); // several push-pulls carry the buffer to n4
    expect(deliveries(c, 'old').map((e) => e.at)).not.toContain('n4');
    // n2 restarts from its snapshot (event-clock line): the event is not delivered twice.
    c.stop('n2');
    c.world.runFor(1000);
    expect(c.diskText('n2')).toMatch(/event-clock: \d+/);
    c.start('n2', { rejoin: true });
    c.world.runFor(70_000);
    expect(deliveries(c, 'old').filter((e) => e.at === 'n2')).toHaveLength(1);
    c.fireEvent('n4', 'new', 'y');
    c.world.runFor(5000);
    expect(deliveries(c, 'new').map((e) => e.at).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  test('the buffer: a repeat at the same time is seen, a different event at that time is new, one 512 times older is old', () => {
    const b = new UserEventBuffer();
    expect(b.admit(5, 'x', bytes('1'), 6)).toBe('new');
    expect(b.admit(5, 'x', bytes('1'), 6)).toBe('seen');
    expect(b.admit(5, 'x', bytes('2'), 6)).toBe('new');
    expect(b.admit(5 + EVENT_BUFFER_SIZE, 'y', bytes(''), 5 + EVENT_BUFFER_SIZE + 1)).toBe('new'); // reuses slot 5
    const clock = 5 + EVENT_BUFFER_SIZE + 1;
    expect(b.admit(6, 'x', bytes('1'), clock)).toBe('new'); // not before clock − 512
    expect(b.admit(5, 'x', bytes('1'), clock)).toBe('old');
    b.minTime = 100;
    expect(b.admit(99, 'q', bytes(''), 200)).toBe('beforeMin');
  });

  test('serf alone: a received event is delivered and queued for gossip once; an old one is logged and dropped', () => {
    const { serf, step } = serfAlone();
    const rx = (ltime: number, name: string): GossipInput => ({ kind: 'receive', from: '10.0.0.2:8301', port: 8301, via: 'udp', msg: { t: 'gossip.userEvent', ltime, name, payload: bytes('p'), cc: false } });
    const first = step(rx(900, 'e'));
    expect(first.filter((e) => e.kind === 'userEvent')).toHaveLength(1);
    expect(serf.stats().event_queue).toBe('1');
    expect(step(rx(900, 'e')).filter((e) => e.kind === 'userEvent')).toHaveLength(0);
    expect(serf.stats().event_time).toBe('901');
    const old = step(rx(10, 'ancient'));
    expect(old).toContainEqual({ kind: 'log', level: 'WARN', source: 'serf', text: 'received old event ancient from time 10 (current: 901)' });
    // Malformed messages from the wire are dropped, not thrown.
    expect(() => step({ kind: 'receive', from: '10.0.0.2:8301', port: 8301, via: 'udp', msg: { t: 'gossip.userEvent', ltime: 'x', name: 3 } as never })).not.toThrow();
  });
});
