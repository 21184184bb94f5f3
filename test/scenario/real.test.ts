// --real scenarios, in one file so they run one after the other (vitest runs files in
// parallel; the two would see each other's processes in their clean-up checks).
//
// The walkthrough with --real: real `muster agent` processes on loopback addresses, the
// installed dig, real files and web services. Slow (real timers: the walkthrough's waits,
// about 3 minutes) but part of `npm test`: issue 9's acceptance is that it passes in CI.
//   npx vitest run test/scenario/real.test.ts
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../cli/commands/scenario.ts';

const FILE = 'scenarios/walkthrough.scenario';

// A small inline scenario (one server): real agent, files, dig, curl, web service, discovery, Ctrl-C.
const TEXT = `host n1 10.10.105.71

n1$ mkdir -p conf
n1$ cat > conf/web.json <<EOF
{"service": {"name": "web", "port": 9000, "checks": [{"http": "http://localhost:9000/health", "interval": "1s"}]}}
EOF

n1$ consul agent -server -bootstrap-expect 1 -data-dir /tmp/consul -node=n1 -bind=10.10.105.71 -dc=dc1 -config-dir=conf
… …
      Cluster Addr: 10.10.105.71 (LAN: 8301, WAN: 8302)
… …
    [INFO] consul: New leader elected: n1

n1$ consul members
Node  Address            Status  Type    Build  Protocol  DC
n1    10.10.105.71:8301  alive   server  0.5.2  2         dc1

n1$ webservice web 9000 "hi from n1"

n1 web log within 10s:
health check!

n1$ curl http://localhost:9000/
hi from n1

sleep 2s

n1$ dig @127.0.0.1 -p 8600 web.service.consul SRV
{{...}}
;; ANSWER SECTION:
web.service.consul.     0       IN      SRV     1 1 9000 n1.node.dc1.consul.

;; ADDITIONAL SECTION:
n1.node.dc1.consul.     0       IN      A       10.10.105.71

;; Query time: {{*}} msec
;; SERVER: 127.0.0.1#8600(127.0.0.1)
{{...}}

n1$ muster discover web
n1.node.dc1.consul. – 10.10.105.71:9000

n1$ cat /tmp/consul/raft/peers.json
["10.10.105.71:8300"]

n1$ ^C
    [INFO] agent: Caught signal: interrupt
`;



function haveDig(): boolean {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('scenarios with --real', () => {
  it('replays a small scenario on real processes and cleans up', { timeout: 120_000 }, async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('muster-scenario-'));
    let transcript = '';
    const r = await runScenarioText(TEXT, 'real-smoke.scenario', { real: true, out: (s) => (transcript += s) });
    if (!r.ok) expect.fail(`${r.summary}\n${r.failures.map((f) => f.message).join('\n')}\n--- transcript ---\n${transcript.slice(-4000)}`);
    expect(r.summary).toBe('PASS real-smoke.scenario real trace=-');
    const after = readdirSync(tmpdir()).filter((f) => f.startsWith('muster-scenario-'));
    expect(after.sort()).toEqual(before.sort());
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('web-service.mjs') || l.includes('muster-scenario-'));
    expect(left).toEqual([]);
  });


  it('passes on real processes and leaves none behind', { timeout: 15 * 60_000 }, async () => {
    expect(haveDig(), 'the installed dig is needed for --real').toBe(true);
    let transcript = '';
    const r = await runScenarioText(readFileSync(FILE, 'utf8'), FILE, { real: true, keepGoing: true, out: (s) => (transcript += s) });
    if (!r.ok) expect.fail(`${r.summary}\n\n${r.failures.map((f) => `line ${f.line} (${f.step}):\n${f.message}`).join('\n\n')}\n--- transcript tail ---\n${transcript.slice(-4000)}`);
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('muster-scenario-'));
    expect(left).toEqual([]);
  });
});
