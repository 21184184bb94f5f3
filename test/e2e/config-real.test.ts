// test/e2e/config-real.test.ts — config files and the pid file with real processes.
//
// Owns: `muster validate` / `configtest` on real JSON and HCL files (exit codes and Consul's
// words), and a real agent started with -pid-file and an HCL service in -config-dir: the file
// holds the agent's PID while it runs and is gone after it exits; the .hcl service is registered.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.23.0 (this helper's own loopback block).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessGroup, freshTempDir, http, runCli, waitFor } from './harness.ts';

const NET = '127.23.0';
const tmp = freshTempDir('config');
const group = new ProcessGroup(tmp);
afterAll(() => group.killAll());

describe('muster validate / configtest', () => {
  it('a good JSON+HCL dir is valid; a bad key fails with file:line:col and exit 1', async () => {
    const dir = path.join(tmp, 'good');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.json'), '{"datacenter": "east"}');
    fs.writeFileSync(path.join(dir, 'b.hcl'), 'node_meta { rack = "r1" }\nservice {\n  name = "web"\n  port = 80\n}\n');
    const ok = await runCli(['validate', dir]);
    expect(ok).toMatchObject({ code: 0, stdout: 'Configuration is valid!\n' });
    expect(await runCli(['validate', '-quiet', dir])).toMatchObject({ code: 0, stdout: '' });
    expect(await runCli(['configtest', `-config-dir=${dir}`])).toMatchObject({ code: 0, stdout: 'Configuration is valid!\n' });

    const bad = path.join(tmp, 'bad.hcl');
    fs.writeFileSync(bad, 'datacenter = "east"\ndns_config {\n  udp_answer_limit = "three"\n}\n');
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Config validation failed: ${bad}:3:22: dns_config.udp_answer_limit: must be a whole number, got the string "three"\n`);
    expect((await runCli(['validate'])).code).toBe(1);
  }, 60_000);
});

describe('-pid-file', () => {
  it('the agent writes its PID, registers the HCL service, and removes the file on exit', async () => {
    const conf = path.join(tmp, 'conf');
    fs.mkdirSync(conf);
    fs.writeFileSync(path.join(conf, 'web.hcl'), 'service {\n  name = "webhcl"\n  port = 8080\n  check {\n    ttl = "30s"\n  }\n}\n');
    const pidFile = path.join(tmp, 'run', 'agent.pid');
    const ip = `${NET}.1`;
    const agent = group.agent('a1', [
      '-server', '-bootstrap-expect=1', `-data-dir=${path.join(tmp, 'data')}`, '-node=a1', `-bind=${ip}`, `-client=${ip}`,
      `-pid-file=${pidFile}`, `-config-dir=${conf}`,
    ]);
    const ctx = () => group.tails(20);
    await waitFor('pid file', async () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8'), { timeoutMs: 30_000, context: ctx });
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(agent.pid));
    await waitFor(
      'webhcl in the catalog',
      async () => {
        const r = await http(`http://${ip}:8500/v1/catalog/service/webhcl`);
        return r.status === 200 && JSON.parse(r.text).length === 1;
      },
      { timeoutMs: 30_000, context: ctx },
    );
    expect(await group.signalAndWait(agent, 'SIGINT', 20_000)).toBe(0);
    expect(fs.existsSync(pidFile)).toBe(false);
  }, 90_000);
});
