// test/config/sim-agent.test.ts — config files read by a simulated agent through the virtual
// disk: an HCL service in -config-dir is registered; a setting the agent does not yet take
// from files is refused with file:line:col, key and reason (nothing is ignored silently).
import { describe, expect, it } from 'vitest';
import { spawnAgent } from '../../sim/cluster/agents.ts';
import { N1, http, serverArgs, walkthroughWorld } from '../agent/helpers.ts';

describe('a simulated agent reads HCL from -config-dir', () => {
  it('registers an HCL-defined service with its check', () => {
    const world = walkthroughWorld(3);
    world.host(N1).disk.writeText('/etc/consul.d/web.hcl', 'service {\n  name = "webhcl"\n  port = 8080\n  check {\n    ttl = "30s"\n  }\n}\n');
    const a = spawnAgent(world, N1, ['-server', '-bootstrap', '-data-dir', '/tmp/consul', '-node=n1', `-bind=${N1}`, '-config-dir', '/etc/consul.d']);
    expect(a.agent).not.toBeNull();
    world.runFor(15_000);
    const r = http(world, N1, 'GET', 'http://127.0.0.1:8500/v1/health/service/webhcl');
    expect(r.status).toBe(200);
    const [entry] = JSON.parse(r.body) as Array<{ Service: { Port: number }; Checks: Array<{ CheckID: string }> }>;
    expect(entry!.Service.Port).toBe(8080);
    expect(entry!.Checks.map((c) => c.CheckID)).toContain('service:webhcl');
  });

  it('refuses, in one line, a file setting it would otherwise ignore', () => {
    const world = walkthroughWorld(3);
    world.host(N1).disk.writeText('/etc/consul.d/agent.hcl', '# agent settings\ndatacenter = "east"\n');
    const lines: string[] = [];
    const a = spawnAgent(world, N1, serverArgs('n1', N1, ['-config-dir', '/etc/consul.d']), { onLine: (l) => lines.push(l) });
    world.runFor(1_000);
    expect(a.agent).toBeNull();
    expect(lines).toContain(
      '==> Error loading config: /etc/consul.d/agent.hcl:2:1: datacenter: this agent does not apply agent settings from config files yet (only services and checks); give it as a command-line flag',
    );
  });
});
