// The walkthrough, step by step, on real agents in the simulator (issue 5's acceptance).
import { describe, expect, it } from 'vitest';
import { N1, N2, N3, clientArgs, digSrv, http, leaderOf, serverArgs, spawnAgent, walkthroughWorld } from './helpers.ts';

const WEB3 = JSON.stringify({
  service: {
    name: 'web3',
    tags: ['master'],
    address: '127.0.0.1',
    port: 10000,
    checks: [{ http: 'http://localhost:10000/health', interval: '10s' }],
  },
});

function serveWeb3(world: ReturnType<typeof walkthroughWorld>, ip: string, name: string): void {
  world.host(ip).serveHttp(10000, (_m, path) => (path === '/health' ? { status: 200, body: '' } : { status: 200, body: `Hello Web3! This is ${name}` }));
}

describe('walkthrough in the simulator', () => {
  it('bootstraps after join, loses its leader on leave, recovers with peers.json + -rejoin, serves web3 by DNS', () => {
    const world = walkthroughWorld(42);
    // 1. two servers alone: no leader
    let n1 = spawnAgent(world, N1, serverArgs('n1', N1));
    let n2 = spawnAgent(world, N2, serverArgs('n2', N2));
    world.runFor(5_000);
    expect(leaderOf(n1)).toBeNull();
    expect(leaderOf(n2)).toBeNull();
    expect(n1.process.output.join('\n')).toContain('[WARN] raft: EnableSingleNode disabled, and no known peers. Aborting election.');
    expect(n1.process.output.join('\n')).toContain('[ERR] agent: failed to sync remote state: No cluster leader');

    // 2. join: bootstrap and one leader for both
    const join = http(world, N1, 'PUT', 'http://127.0.0.1:8500/v1/agent/join/10.10.126.101');
    expect(join.status).toBe(200);
    world.runFor(5_000);
    const leader = leaderOf(n1);
    expect(leader).not.toBeNull();
    expect(leaderOf(n2)).toBe(leader);
    expect(n1.process.output.join('\n')).toContain('consul: Attempting bootstrap with nodes: [10.10.126.101:8300 10.10.105.71:8300]');
    const all = [...n1.process.output, ...n2.process.output].join('\n');
    expect(all).toContain('raft: Election won. Tally: 2');
    expect(all).toContain("agent: Synced service 'consul'");
    const members = JSON.parse(http(world, N1, 'GET', 'http://127.0.0.1:8500/v1/agent/members').body) as { Name: string; Status: number }[];
    expect(members.map((m) => `${m.Name}:${m.Status}`).sort()).toEqual(['n1:1', 'n2:1']);

    // 3. the leader leaves: the other has no leader, members shows it left
    const leaderIp = leader === `${N1}:8300` ? N1 : N2;
    const otherIp = leaderIp === N1 ? N2 : N1;
    const leaveRes = http(world, leaderIp, 'PUT', 'http://127.0.0.1:8500/v1/agent/leave');
    expect(leaveRes.status).toBe(200);
    world.runFor(10_000);
    const other = leaderIp === N1 ? n2 : n1;
    expect(leaderOf(other)).toBeNull();
    const after = JSON.parse(http(world, otherIp, 'GET', 'http://127.0.0.1:8500/v1/agent/members').body) as { Name: string; Status: number }[];
    const leaverName = leaderIp === N1 ? 'n1' : 'n2';
    expect(after.find((m) => m.Name === leaverName)?.Status).toBe(3);
    // 4. the leaver wrote null into its peers.json
    expect(world.host(leaderIp).disk.readText('/tmp/consul/raft/peers.json')).toBe('null');

    // restarted, it stays alone; a join does not help
    const leaverName2 = leaverName;
    const restarted = spawnAgent(world, leaderIp, serverArgs(leaverName2, leaderIp));
    world.runFor(3_000);
    http(world, otherIp, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${leaderIp}`);
    world.runFor(5_000);
    expect(leaderOf(restarted)).toBeNull();
    expect(leaderOf(other)).toBeNull();

    // 5. recovery: same peer list in both peers.json, restart the leaver with -rejoin
    restarted.process.signal('SIGTERM');
    world.runFor(1_000);
    const peers = JSON.stringify([`${N2}:8300`, `${N1}:8300`]);
    world.host(N1).disk.writeText('/tmp/consul/raft/peers.json', peers);
    world.host(N2).disk.writeText('/tmp/consul/raft/peers.json', peers);
    const rejoined = spawnAgent(world, leaderIp, serverArgs(leaverName2, leaderIp, ['-rejoin']));
    world.runFor(10_000);
    expect(leaderOf(rejoined)).not.toBeNull();
    expect(leaderOf(other)).toBe(leaderOf(rejoined));
    if (leaderIp === N1) n1 = rejoined;
    else n2 = rejoined;

    // 6. client n3 joins
    const n3 = spawnAgent(world, N3, clientArgs('n3', N3));
    world.runFor(2_000);
    expect(n3.process.output.join('\n')).toContain('[ERR] agent: failed to sync remote state: No known Consul servers');
    http(world, N3, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${N1}`);
    world.runFor(5_000);
    const m3 = JSON.parse(http(world, N3, 'GET', 'http://127.0.0.1:8500/v1/agent/members').body) as { Name: string; Status: number; Tags: Record<string, string> }[];
    expect(m3.map((m) => `${m.Name}:${m.Status}:${m.Tags.role}`).sort()).toEqual(['n1:1:consul', 'n2:1:consul', 'n3:1:node']);

    // 7. web3 via -config-dir on n2 and n3; checks fail until web3 runs
    world.host(N2).disk.writeText('/etc/consul.d/web3.json', WEB3);
    world.host(N3).disk.writeText('/etc/consul.d/web3.json', WEB3);
    n3.process.signal('SIGTERM');
    world.runFor(500);
    const n3b = spawnAgent(world, N3, clientArgs('n3', N3, ['-config-dir=/etc/consul.d', '-join', N1]));
    n2.process.signal('SIGTERM');
    world.runFor(500);
    n2 = spawnAgent(world, N2, serverArgs('n2', N2, ['-config-dir=/etc/consul.d', '-join', N1]));
    world.runFor(25_000);
    expect(n3b.process.output.join('\n')).toMatch(/\[WARN\] agent: http request failed 'http:\/\/localhost:10000\/health' : .*connection refused/);
    expect(digSrv(world, N1, 'web3.service.consul')).toEqual([]);
    serveWeb3(world, N2, 'n2');
    serveWeb3(world, N3, 'n3');
    world.runFor(25_000);
    // 8. dig on n1 (which runs no web3) answers both
    expect(digSrv(world, N1, 'web3.service.consul')).toEqual(['n2.node.dc1.consul:10000', 'n3.node.dc1.consul:10000']);
    // web3 stops on n2: after the interval only n3 is answered
    world.host(N2).stopHttp(10000);
    world.runFor(25_000);
    expect(digSrv(world, N1, 'web3.service.consul')).toEqual(['n3.node.dc1.consul:10000']);
    // stopping n3's agent drops everything on n3
    n3b.process.signal('SIGINT');
    world.runFor(10_000);
    expect(digSrv(world, N1, 'web3.service.consul')).toEqual([]);
    const nodes = JSON.parse(http(world, N1, 'GET', 'http://127.0.0.1:8500/v1/catalog/nodes').body) as { Node: string }[];
    expect(nodes.map((n) => n.Node).sort()).toEqual(['n1', 'n2']);
  });
});

describe('agent behaviours around the walkthrough', () => {
  it('deregister_critical_service_after removes a service whose check stays critical', () => {
    const world = walkthroughWorld(3);
    world.host(N1).disk.writeText(
      '/etc/consul.d/api.json',
      JSON.stringify({ service: { name: 'api', port: 9000, checks: [{ http: 'http://localhost:9000/health', interval: '5s', deregister_critical_service_after: '1m' }] } }),
    );
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir', '/d', '-node=n1', `-bind=${N1}`, '-config-dir', '/etc/consul.d']);
    world.runFor(20_000);
    expect(n1.agent!.agent.fsm!.nodeServices('n1').map((s) => s.ID).sort()).toEqual(['api', 'consul']);
    world.runFor(120_000);
    expect(n1.agent!.agent.fsm!.nodeServices('n1').map((s) => s.ID)).toEqual(['consul']);
    expect(n1.process.output.join('\n')).toContain("has been critical for too long; deregistered service");
  });

  it('TTL checks: pass over HTTP keeps them passing, silence turns them critical', () => {
    const world = walkthroughWorld(4);
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir', '/d', '-node=n1', `-bind=${N1}`]);
    world.runFor(5_000);
    const reg = http(world, N1, 'PUT', 'http://127.0.0.1:8500/v1/agent/check/register', JSON.stringify({ Name: 'beat', TTL: '15s' }));
    expect(reg.status).toBe(200);
    expect(http(world, N1, 'PUT', 'http://127.0.0.1:8500/v1/agent/check/pass/beat?note=alive').status).toBe(200);
    world.runFor(3_000);
    const st = () => n1.agent!.agent.fsm!.nodeChecks('n1').find((c) => c.CheckID === 'beat')?.Status;
    expect(st()).toBe('passing');
    world.runFor(20_000);
    expect(st()).toBe('critical');
  });

  it('SIGTERM stops a server without leaving; SIGINT leaves (Consul 0.5 signal defaults)', () => {
    const world = walkthroughWorld(5);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1));
    const n2 = spawnAgent(world, N2, serverArgs('n2', N2));
    world.runFor(3_000);
    http(world, N1, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${N2}`);
    world.runFor(5_000);
    n2.process.signal('SIGTERM');
    world.runFor(30_000);
    const status = (ip: string, name: string) =>
      (JSON.parse(http(world, ip, 'GET', 'http://127.0.0.1:8500/v1/agent/members').body) as { Name: string; Status: number }[]).find((m) => m.Name === name)?.Status;
    expect(n2.process.exited).toBe(true);
    expect(status(N1, 'n2')).toBe(4); // failed, not left
    expect(world.host(N2).disk.readText('/tmp/consul/raft/peers.json')).not.toBe('null');
    const n2b = spawnAgent(world, N2, serverArgs('n2', N2, ['-rejoin']));
    world.runFor(10_000);
    expect(status(N1, 'n2')).toBe(1);
    n2b.process.signal('SIGINT');
    world.runFor(10_000);
    expect(status(N1, 'n2')).toBe(3); // left
    expect(world.host(N2).disk.readText('/tmp/consul/raft/peers.json')).toBe('null');
  });
});

describe('peers.json recovery', () => {
  it('a follower that was not restarted learns the recovered peer set from the new leader', () => {
    const world = walkthroughWorld(42);
    const n1 = spawnAgent(world, N1, serverArgs('n1', N1));
    const n2 = spawnAgent(world, N2, serverArgs('n2', N2));
    world.runFor(3_000);
    http(world, N1, 'PUT', `http://127.0.0.1:8500/v1/agent/join/${N2}`);
    world.runFor(5_000);
    const leaderIp = leaderOf(n1) === `${N1}:8300` ? N1 : N2;
    const otherIp = leaderIp === N1 ? N2 : N1;
    const other = leaderIp === N1 ? n2 : n1;
    const name = leaderIp === N1 ? 'n1' : 'n2';
    http(world, leaderIp, 'PUT', 'http://127.0.0.1:8500/v1/agent/leave');
    world.runFor(10_000);
    expect(other.agent!.agent.raft!.peers).toEqual([`${otherIp}:8300`]);
    const peers = JSON.stringify([`${N2}:8300`, `${N1}:8300`]);
    world.host(N1).disk.writeText('/tmp/consul/raft/peers.json', peers);
    world.host(N2).disk.writeText('/tmp/consul/raft/peers.json', peers);
    const back = spawnAgent(world, leaderIp, serverArgs(name, leaderIp, ['-rejoin']));
    world.runFor(10_000);
    expect(leaderOf(other)).not.toBeNull();
    expect([...other.agent!.agent.raft!.peers].sort()).toEqual([`${N1}:8300`, `${N2}:8300`]);
    expect(other.agent!.agent.stats().raft!.num_peers).toBe('1');
    expect(back.agent!.agent.stats().raft!.num_peers).toBe('1');
  });
});

describe('reload', () => {
  it('PUT /v1/agent/reload re-reads -config-dir: a new service appears, a removed one goes', () => {
    const world = walkthroughWorld(8);
    const svc = (name: string, port: number) => JSON.stringify({ service: { name, port } });
    world.host(N1).disk.writeText('/etc/consul.d/a.json', svc('alpha', 1000));
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir', '/d', '-node=n1', `-bind=${N1}`, '-config-dir', '/etc/consul.d']);
    world.runFor(10_000);
    const ids = () => n1.agent!.agent.fsm!.nodeServices('n1').map((s) => s.ID).sort();
    expect(ids()).toEqual(['alpha', 'consul']);
    world.host(N1).disk.remove('/etc/consul.d/a.json');
    world.host(N1).disk.writeText('/etc/consul.d/b.json', svc('beta', 2000));
    expect(http(world, N1, 'PUT', 'http://127.0.0.1:8500/v1/agent/reload').status).toBe(200);
    world.runFor(5_000);
    expect(ids()).toEqual(['beta', 'consul']);
  });
});

describe('anti-entropy', () => {
  it('a check update that lands while a sync is running still reaches the catalog at once', () => {
    const world = walkthroughWorld(9);
    const n1 = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir', '/d', '-node=n1', `-bind=${N1}`]);
    const n3 = spawnAgent(world, N3, clientArgs('n3', N3, ['-join', N1]));
    world.runFor(10_000);
    const body = JSON.stringify({ Name: 'api', Port: 9000, Check: { TTL: '30s' } });
    // Register; once the sync it started has written the service (its check write still to
    // come, carrying the status read at the start of the pass), pass the check.
    let done = 0;
    world.httpRequest(N3, 'http://127.0.0.1:8500/v1/agent/service/register', { method: 'PUT', body, timeoutMs: 5000 }, () => done++);
    world.runUntilTrue(() => n1.agent!.agent.fsm!.nodeServices('n3').some((x) => x.ID === 'api'), 5000);
    expect(n1.agent!.agent.fsm!.nodeChecks('n3').some((c) => c.CheckID === 'service:api')).toBe(false);
    world.httpRequest(N3, 'http://127.0.0.1:8500/v1/agent/check/pass/service:api', { method: 'PUT', timeoutMs: 5000 }, () => done++);
    world.runUntilTrue(() => done === 2, 5000);
    world.runFor(3_000);
    const check = n1.agent!.agent.fsm!.nodeChecks('n3').find((c) => c.CheckID === 'service:api');
    expect(check?.Status).toBe('passing');
  });
});
