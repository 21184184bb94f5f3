// Real-cluster mode, driven against agents in the simulator through an HttpClient that rides
// the virtual network: the model shows members, the leader, services with DNS health and log
// events; when the agent goes away the screen says so and the controller keeps retrying.
import { describe, expect, it } from 'vitest';
import React from 'react';
import { render } from 'ink-testing-library';
import { SimWorld } from '../../sim/world.ts';
import { spawnAgent } from '../../sim/cluster/agents.ts';
import { ConnectionError, type HttpClient } from '../../cli/http-client.ts';
import { HttpController } from '../../cli/tui/http-controller.ts';
import { App } from '../../cli/tui/app.tsx';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function walkthroughWorld() {
  const world = new SimWorld({ seed: 5 });
  const ips = { n1: '10.10.105.71', n2: '10.10.126.101', n3: '10.10.126.187' };
  for (const [n, ip] of Object.entries(ips)) world.addHost(ip, n);
  const server = (n: 'n1' | 'n2') => ['-server', '-bootstrap-expect', '2', '-data-dir', '/tmp/consul', `-node=${n}`, `-bind=${ips[n]}`, '-dc=dc1', '-join', ips.n1];
  world.host('n3').disk.writeText(
    '/etc/consul.d/web3.json',
    JSON.stringify({ service: { name: 'web3', port: 80, check: { http: `http://${ips.n3}:80/health`, interval: '10s' } } }),
  );
  const agents = [
    spawnAgent(world, ips.n1, server('n1')),
    spawnAgent(world, ips.n2, server('n2')),
    spawnAgent(world, ips.n3, ['-data-dir', '/tmp/consul', '-node=n3', `-bind=${ips.n3}`, '-dc=dc1', '-config-dir', '/etc/consul.d', '-join', ips.n1]),
  ];
  return { world, agents };
}

const lower = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

/** curl from n1 to its own agent; refused while the agent is down. */
function simClient(world: SimWorld): HttpClient {
  return {
    request: (addr, method, path) =>
      new Promise((resolve, reject) =>
        world.httpRequest('n1', `http://${addr}${path}`, { method, timeoutMs: 120_000 }, (r) =>
          r.ok ? resolve({ status: r.status, headers: lower(r.headers), body: r.bodyBytes }) : reject(new ConnectionError(addr, r.reason)),
        ),
      ),
  };
}

/** Let virtual time pass in small slices while the controller's loops (real timers) run. */
async function drive(world: SimWorld, virtualMs: number, until?: () => boolean): Promise<void> {
  const end = world.nowMs() + virtualMs;
  while (world.nowMs() < end) {
    world.runFor(100);
    await flush();
    await new Promise((r) => setTimeout(r, 1));
    if (until?.()) return;
  }
}

describe('tui --http-addr (real-cluster mode)', () => {
  it('shows members, leader, services as DNS answers them and log events; survives the agent going away', async () => {
    const { world, agents } = walkthroughWorld();
    world.runFor(10_000);
    const c = new HttpController({ addr: '127.0.0.1:8500', http: simClient(world), pollMs: 5, retryMs: 5, waitText: '2s' });
    c.start();
    await drive(world, 30_000, () => c.model().nodes.length === 3 && c.model().services.some((s) => s.service === 'web3'));
    let m = c.model();
    expect(m.mode).toBe('http');
    expect(m.connection).toMatchObject({ ok: true });
    expect(m.nodes.map((n) => [n.name, n.server, n.gossip])).toEqual([
      ['n1', true, 'alive'],
      ['n2', true, 'alive'],
      ['n3', false, 'alive'],
    ]);
    const leader = agents.find((a) => a.agent!.agent.raft?.state === 'Leader')!.agent!.agent.nodeName;
    expect(m.nodes.find((n) => n.role === 'Leader')?.name).toBe(leader);
    const self = m.nodes.find((n) => n.name === 'n1')!;
    expect(self.term).toBe(agents[0]!.agent!.agent.raft!.term);
    expect(self.peers).toEqual(['n1', 'n2']);
    // web3 on n3 has no web server: critical, so DNS leaves it out.
    expect(m.services.find((s) => s.service === 'web3')).toMatchObject({ node: 'n3', status: 'critical', inDns: false });
    expect(c.act('crash', 'n2')).toMatch(/read-only/);

    // A log line arrives through the monitor long-poll (the leader's "member 'n3' left").
    agents[2]!.process.signal('SIGINT');
    await drive(world, 30_000, () => c.model().events.some((e) => e.kind === 'leave' && e.text === 'n3 left'));
    expect(c.model().events.some((e) => e.kind === 'leave' && e.text === 'n3 left')).toBe(true);

    // The agent goes away: say so, keep retrying, and recover when it is back.
    world.host('n1').crash();
    await drive(world, 30_000, () => c.model().connection?.ok === false);
    m = c.model();
    expect(m.connection?.ok).toBe(false);
    expect(m.connection?.message).toMatch(/agent 127\.0\.0\.1:8500 not answering \(.*(connection refused|connection timed out|timeout)\); retrying in \d+m?s/);
    expect(m.nodes.length).toBe(3); // the last answer stays on screen
    const app = render(<App controller={c} cols={80} rows={24} />);
    for (let i = 0; i < 300 && !app.lastFrame()?.includes('not answering'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(app.lastFrame()).toContain('not answering');
    expect(app.lastFrame()).toContain('read-only view of a real cluster');
    app.stdin.write('c');
    for (let i = 0; i < 300 && !app.lastFrame()?.includes('keys do not act'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(app.lastFrame()).toContain('read-only view: keys do not act');
    app.unmount();

    world.host('n1').restart();
    await drive(world, 20_000, () => c.model().connection?.ok === true);
    expect(c.model().connection?.ok).toBe(true);
    expect(c.model().events.some((e) => e.text.includes('is back'))).toBe(true);
    c.stop();
  });
});
