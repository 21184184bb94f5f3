import { describe, expect, it } from 'vitest';
import { buildChattyWorld } from '../../sim/demo-world.ts';

function run(seed: string, traceEnabled: boolean) {
  const { world, faults, received } = buildChattyWorld({ seed, hosts: 20, traceEnabled, durationMs: 20_000 });
  world.runUntil(20_000);
  return { hash: world.traceHash(), count: world.traceCount(), stats: world.net.stats(), received: received(), faults, tail: world.traceTail(5) };
}

describe('determinism', () => {
  it('20 hosts, datagrams + streams, loss, partitions, crash/restart: same seed ⇒ same hash; other seed ⇒ other hash', () => {
    const a = run('det-1', true);
    const b = run('det-1', true);
    const c = run('det-2', true);
    const why = `replay: npx vitest run test/sim/determinism.test.ts (seed det-1)\n${a.tail.join('\n')}`;
    // The world must really be busy and faulty, or the test proves nothing.
    expect(a.faults.some((f) => f.kind === 'crash'), why).toBe(true);
    expect(a.faults.some((f) => f.kind === 'partition'), why).toBe(true);
    expect(a.stats.datagramsDropped).toBeGreaterThan(100);
    expect(a.stats.streamMessagesDelivered).toBeGreaterThan(500);
    expect(a.received).toBeGreaterThan(3000);
    expect(b.hash, why).toBe(a.hash);
    expect(b.count).toBe(a.count);
    expect(b.stats).toEqual(a.stats);
    expect(c.hash).not.toBe(a.hash);
  });

  it('with tracing off the per-event digest is just as deterministic', () => {
    const a = run('det-3', false);
    const b = run('det-3', false);
    const c = run('det-4', false);
    const on = run('det-3', true);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    // Same world either way: tracing changes the record, not the run.
    expect(on.stats).toEqual(a.stats);
    expect(on.received).toBe(a.received);
  });
});
