// `muster tui --scenario FILE`: the replay runs under the UI's frames (so it can be paused and
// stepped), passes, shows the election, and — with no keys pressed — ends with the same trace
// hash as `muster scenario run` for the same seed.
import { describe, expect, it } from 'vitest';
import { startScenario } from '../../cli/tui/scenario-driver.ts';
import { runScenarioText } from '../../cli/commands/scenario.ts';
import { SimController } from '../../cli/tui/sim-controller.ts';
import type { RunResult } from '../../sim/scenario/engine.ts';

const SCENARIO = `# two walkthrough servers elect once joined
host n1 10.10.105.71
host n2 10.10.126.101

n1$ consul agent -server -bootstrap-expect 2 -data-dir /tmp/consul -node=n1 -bind=10.10.105.71 -dc=dc1
==> WARNING: Expect Mode enabled, expecting 2 servers
… …

n2$ consul agent -server -bootstrap-expect 2 -data-dir /tmp/consul -node=n2 -bind=10.10.126.101 -dc=dc1
==> WARNING: Expect Mode enabled, expecting 2 servers
… …

sleep 3s

n1$ consul join 10.10.126.101
Successfully joined cluster by contacting 1 nodes.

n2 log:
    2015/07/03 09:18:28 [INFO] consul: New leader elected: {{*}}

sleep 2s
`;

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('tui --scenario', () => {
  it('replays frame by frame to PASS with the plain runner’s trace hash, showing the leader in term 1', async () => {
    const plain = await runScenarioText(SCENARIO, 'two.scn', { seed: '5' });
    expect(plain.ok).toBe(true);

    const s = startScenario(SCENARIO, 'two.scn', '5');
    const c = new SimController(s.observer, { speed: 1, advance: (ms) => s.advance(ms), afterManualTime: () => s.backend.settleWait() });
    let result: RunResult | null | undefined;
    void s.done.then((r) => (result = r));
    // Paused: frames do not move time, the scenario waits.
    c.act('togglePause', null);
    for (let i = 0; i < 5; i++) {
      c.tick(100);
      await flush();
    }
    const pausedAt = c.model().nowMs;
    expect(pausedAt).toBeLessThan(3000);
    expect(c.model().status).toMatch(/^step \d+\/6 \(line \d+\): /);
    c.act('togglePause', null);
    for (let i = 0; i < 500 && result === undefined; i++) {
      c.tick(100);
      await flush();
    }
    expect(result).toBeTruthy();
    expect(result!.ok).toBe(true);
    expect(result!.traceHash).toBe(plain.traceHash);
    expect(c.model().status).toMatch(/scenario PASS \(6 steps\)/);
    const m = c.model();
    const leader = m.nodes.find((n) => n.role === 'Leader')!;
    expect(leader.term).toBe(1);
    expect(m.events.some((e) => e.kind === 'info' && e.node === 'n1' && e.text === '$ consul join 10.10.126.101')).toBe(true);
    expect(m.events.some((e) => e.kind === 'won' && e.node === leader.name)).toBe(true);
    // After the last step the cluster keeps running under the same controls.
    const t = m.nowMs!;
    c.tick(100);
    expect(c.model().nowMs).toBe(t + 100);
  });
});
