// The ink app: panels for a hand-made model, sizes from 40×12 to 200×60, and the keys
// (pause, speed, select, isolate/heal, crash/restart, leave, next election, step, quit)
// changing a real simulated cluster's model.
import { describe, expect, it } from 'vitest';
import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../cli/tui/app.tsx';
import { Screen } from '../../cli/tui/view.tsx';
import { SimController } from '../../cli/tui/sim-controller.ts';
import { buildSimCluster } from '../../cli/tui/sim-cluster.ts';
import { SimObserver, type ClusterModel, type NodeView } from '../../sim/tui-model.ts';

const ui = { selected: 1, paused: true, speed: 2, message: 'hello', readOnly: false };
const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Wait (real time, up to 3 s) until cond holds — ink handles keys and re-renders asynchronously. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await tick(10);
}

function node(name: string, over: Partial<NodeView> = {}): NodeView {
  return {
    name,
    addr: `10.0.0.${name.slice(1)}`,
    server: true,
    running: true,
    role: 'Follower',
    term: 3,
    commitIndex: 17,
    appliedIndex: 16,
    lastContact: '23.456ms',
    votedFor: 'n2',
    leader: 'n2',
    gossip: 'alive',
    peers: ['n1', 'n2', 'n3'],
    ...over,
  };
}

function handModel(): ClusterModel {
  return {
    mode: 'sim',
    title: 'hand-made',
    seed: '42',
    nowMs: 12_345.6,
    traceHash: 'abcdef0123456789abcdef',
    nodes: [node('n1'), node('n2', { role: 'Leader', lastContact: '0' }), node('n3', { role: 'Down', running: false, gossip: 'suspect', term: null, commitIndex: null, lastContact: null, peers: [] })],
    events: [
      { seq: 1, atMs: 1000, kind: 'election', node: 'n2', seenBy: ['n2'], text: 'starts election t3' },
      { seq: 2, atMs: 1003, kind: 'won', node: 'n2', seenBy: ['n2'], text: 'wins election t3 (tally 2)' },
      { seq: 3, atMs: 1004, kind: 'leader', node: 'n2', seenBy: ['n2', 'n1'], text: 'leader is n2' },
      { seq: 4, atMs: 9000, kind: 'fault', node: 'n3', seenBy: ['n3'], text: 'crashed' },
    ],
    network: {
      links: [
        { from: 'n1', to: 'n2', count: 120, cut: false },
        { from: 'n2', to: 'n1', count: 118, cut: false },
        { from: 'n1', to: 'n3', count: 5, cut: true },
      ],
      groups: [['n1', 'n2'], ['n3']],
    },
    services: [
      { service: 'web', node: 'n1', address: '10.0.0.1', port: 80, tags: [], status: 'passing', inDns: true },
      { service: 'web', node: 'n3', address: '10.0.0.3', port: 80, tags: [], status: 'critical', inDns: false },
    ],
    connection: null,
    status: null,
  };
}

describe('panels', () => {
  it('render every part of the model at 80×24', () => {
    const { lastFrame, unmount } = render(<Screen model={handModel()} ui={ui} cols={80} rows={24} />);
    const f = lastFrame()!;
    unmount();
    for (const bit of ['hand-made', '❚❚ paused', 'hello', 'Leader t3', 'Follower t3', 'Down', 'idx 17/16', 'contact 23ms', 'vote n2', 'gossip suspect', 'peers n1,n2,n3']) {
      expect(f, bit).toContain(bit);
    }
    expect(f).toContain('n2: starts election t3');
    expect(f).toContain('n2: wins election t3 (tally 2)');
    expect(f).toContain('leader is n2 (seen by 2)');
    expect(f).toContain('✖ n3 crashed');
    expect(f).toContain('cut: [n1 n2] ╳ [n3]');
    expect(f).toContain('n1⇄n2 120/118');
    expect(f).toContain('n1╳n3 5/0');
    expect(f).toMatch(/web\s+n1:80\s+passing\s+DNS ✓/);
    expect(f).toMatch(/web\s+n3:80\s+critical\s+DNS ✗/);
    expect(f).toContain('seed 42 · t=12.346s · trace abcdef0123456789');
  });

  it('fits any size from 40×12 to 200×60 (lines ≤ rows-1, width ≤ cols), including many nodes', () => {
    const many = handModel();
    many.nodes = Array.from({ length: 9 }, (_, i) => node(`n${i + 1}`));
    for (const model of [handModel(), many]) {
      for (const [cols, rows] of [[40, 12], [80, 24], [100, 30], [132, 43], [200, 60]] as const) {
        const { lastFrame, unmount } = render(<Screen model={model} ui={ui} cols={cols} rows={rows} />);
        const lines = lastFrame()!.split('\n');
        unmount();
        expect(lines.length, `${cols}x${rows}`).toBeLessThanOrEqual(rows - 1);
        for (const l of lines) expect([...l].length, `${cols}x${rows}: ${l}`).toBeLessThanOrEqual(cols);
        expect(lines.join('\n')).toContain('seed 42');
      }
    }
  });
});

describe('controls on a simulated cluster', () => {
  async function setup() {
    const cluster = buildSimCluster({ seed: 7, servers: 3, clients: 1 });
    const observer = new SimObserver(cluster.world, () => cluster.agents);
    const controller = new SimController(observer, { frameMs: 100, speed: 10 });
    for (let i = 0; i < 20; i++) controller.tick(100); // 20 s virtual: elected and settled
    let quit = false;
    const app = render(<App controller={controller} cols={100} rows={30} onQuit={() => (quit = true)} />);
    await until(() => (app.lastFrame() ?? '').includes('Timeline'));
    await tick(50); // ink attaches its stdin listener in an effect after the first frame
    return { cluster, controller, app, quit: () => quit };
  }

  it('space pauses and resumes; +/- change the speed; frames stop moving time while paused', async () => {
    const { controller, app } = await setup();
    await tick();
    expect(app.lastFrame()).toContain('▶ running ×10');
    app.stdin.write(' ');
    await until(() => app.lastFrame()!.includes('❚❚ paused'));
    expect(controller.paused).toBe(true);
    expect(app.lastFrame()).toContain('❚❚ paused');
    const t = controller.model().nowMs;
    controller.tick(100);
    expect(controller.model().nowMs).toBe(t);
    app.stdin.write('+');
    await until(() => controller.speed === 20);
    expect(controller.speed).toBe(20);
    app.stdin.write('-');
    await until(() => controller.speed === 10);
    app.stdin.write('-');
    await until(() => controller.speed === 5);
    expect(controller.speed).toBe(5);
    app.stdin.write(' ');
    await until(() => !controller.paused);
    controller.tick(100);
    await until(() => app.lastFrame()!.includes('▶ running ×5'));
    expect(controller.model().nowMs).toBe(t! + 500);
    expect(app.lastFrame()).toContain('▶ running ×5');
    app.unmount();
  });

  it('s runs exactly one scheduler event and says what it was', async () => {
    const { controller, app } = await setup();
    const before = controller.observer.world.eventsRun();
    app.stdin.write('s');
    await until(() => /step @/.test(app.lastFrame()!));
    expect(controller.paused).toBe(true);
    expect(controller.observer.world.eventsRun()).toBe(before + 1);
    expect(app.lastFrame()).toMatch(/step @\d+\.\d{3}s: /);
    app.unmount();
  });

  it('p isolates the selected node (partition drawn), h heals it', async () => {
    const { controller, app } = await setup();
    app.stdin.write('3');
    await until(() => app.lastFrame()!.includes('║3 n3'));
    app.stdin.write('p');
    await until(() => app.lastFrame()!.includes('n3 isolated'));
    let m = controller.model();
    expect(m.network!.groups).toEqual([['n1', 'n2', 'c1'], ['n3']]);
    expect(m.events.at(-1)).toMatchObject({ kind: 'fault', node: 'n3', text: 'isolated from the network' });
    expect(app.lastFrame()).toContain('cut: [n1 n2 c1] ╳ [n3]');
    expect(app.lastFrame()).toContain('n3 isolated');
    app.stdin.write('h');
    await until(() => app.lastFrame()!.includes('no partition'));
    m = controller.model();
    expect(m.network!.groups).toBeNull();
    expect(app.lastFrame()).toContain('no partition');
    app.unmount();
  });

  it('c crashes the selected leader, e runs to the next election, r restarts it as a follower', async () => {
    const { controller, app } = await setup();
    const leaderIdx = controller.model().nodes.findIndex((n) => n.role === 'Leader');
    expect(leaderIdx).toBeGreaterThanOrEqual(0);
    const oldLeader = controller.model().nodes[leaderIdx]!;
    app.stdin.write(String(leaderIdx + 1));
    await until(() => app.lastFrame()!.includes(`║${leaderIdx + 1} ${oldLeader.name}`));
    app.stdin.write('c');
    await until(() => app.lastFrame()!.includes(`${oldLeader.name} crashed`));
    let m = controller.model();
    expect(m.nodes[leaderIdx]).toMatchObject({ name: oldLeader.name, role: 'Down', running: false });
    expect(app.lastFrame()).toContain(`${oldLeader.name} crashed`);
    app.stdin.write('e');
    await until(() => app.lastFrame()!.includes('next election won after'));
    m = controller.model();
    const newLeader = m.nodes.find((n) => n.role === 'Leader')!;
    expect(newLeader.name).not.toBe(oldLeader.name);
    expect(newLeader.term).toBeGreaterThan(oldLeader.term!);
    expect(app.lastFrame()).toContain('next election won after');
    expect(app.lastFrame()).toContain(`${newLeader.name}: wins election t${newLeader.term}`);
    app.stdin.write('r');
    await until(() => app.lastFrame()!.includes(`${oldLeader.name} restarted`));
    controller.paused = false;
    for (let i = 0; i < 10; i++) controller.tick(100);
    m = controller.model();
    expect(m.nodes[leaderIdx]).toMatchObject({ name: oldLeader.name, role: 'Follower', running: true, leader: newLeader.name });
    app.unmount();
  });

  it('l makes the selected client leave gracefully; the others see it as left', async () => {
    const { controller, app } = await setup();
    for (let i = 0; i < 3; i++) {
      app.stdin.write('\t'); // n1 → n2 → n3 → c1
      await until(() => app.lastFrame()!.includes(`║${i + 2} `));
    }
    app.stdin.write('l');
    await until(() => app.lastFrame()!.includes('c1 leaving'));
    for (let i = 0; i < 10; i++) controller.tick(100);
    const c1 = controller.model().nodes.find((n) => n.name === 'c1')!;
    expect(c1).toMatchObject({ running: false, role: 'Down', gossip: 'left' });
    expect(controller.model().events.some((e) => e.kind === 'leave' && e.text === 'c1 left')).toBe(true);
    app.unmount();
  });

  it('q stops the controller and quits', async () => {
    const { app, quit } = await setup();
    app.stdin.write('q');
    await until(() => quit());
    expect(quit()).toBe(true);
    app.unmount();
  });
});
