// test/e2e/clients/python-consul-real.test.ts — Debian's python3-consul against a real Muster
// agent on loopback: KV (uint64 flags, CAS, keys/separator, recurse), sessions (NodeChecks,
// renew, acquire/release, behavior=delete), catalog, agent services/checks, health, status.
// The calls are in python-consul.py, written against the library's public API.
// Must never: wait without a deadline, or leave a process behind (afterAll kills by PID).
//
// NET is 127.26.1 (the api engineer's block 127.26.0.0/16).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessGroup, freshTempDir, http, runCommand, waitFor } from '../harness.ts';

const IP = process.env.MUSTER_E2E_PYCONSUL_IP ?? '127.26.1.1';
const tmp = freshTempDir('pyconsul');
const group = new ProcessGroup(tmp);

beforeAll(async () => {
  group.agent('s1', ['-server', '-bootstrap-expect', '1', '-data-dir', path.join(tmp, 's1'), '-node=s1', `-bind=${IP}`, `-client=${IP}`]);
  // A single server elects itself within a few election timeouts; 30 s covers a loaded CI box.
  await waitFor(
    'a leader',
    async () => {
      const r = await http(`http://${IP}:8500/v1/status/leader`).catch(() => undefined);
      return r && r.status === 200 && r.text.includes(':8300');
    },
    { timeoutMs: 30_000, intervalMs: 250, context: () => group.tails(20) },
  );
}, 60_000);

afterAll(async () => {
  await group.killAll();
});

describe('python3-consul against a real agent', () => {
  it('every call of the script passes', async () => {
    // The script makes ~50 calls to a local agent; 60 s bounds a stuck one.
    const r = await runCommand('/usr/bin/python3', [path.join(import.meta.dirname, 'python-consul.py'), IP, '8500'], { timeoutMs: 60_000 });
    expect(r.stdout + r.stderr, group.tails(20)).toContain('ALL OK');
    expect(r.code).toBe(0);
  }, 90_000);
});
