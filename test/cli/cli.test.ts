// CLI output tests: the Consul-compatible commands against the core handler + fake backend
// (in-process HttpClient), compared with the walkthrough's tables and Consul's messages.
import { describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands/index.ts';
import type { CliIo } from '../../cli/commands/common.ts';
import { ConnectionError, nodeHttpClient, type HttpClient } from '../../cli/http-client.ts';
import { FakeBackend, member, request } from '../http/fake-backend.ts';
import { startHttpServer } from '../../transports/http-server.ts';

interface Captured {
  io: CliIo;
  out: () => string;
  err: () => string;
  paths: string[];
}

function inProcess(b: FakeBackend, extra: Partial<CliIo> = {}, env: Record<string, string> = {}): Captured {
  let out = '';
  let err = '';
  const paths: string[] = [];
  const http: HttpClient = {
    async request(addr, method, path, body) {
      paths.push(`${addr} ${method} ${path}`);
      const res = await b.handle(request(method, path, body));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = v;
      return { status: res.status, headers, body: typeof res.body === 'string' ? new TextEncoder().encode(res.body) : res.body };
    },
  };
  const io: CliIo = { stdout: (s) => (out += s), stderr: (s) => (err += s), env, http, ...extra };
  return { io, out: () => out, err: () => err, paths };
}

async function consul(b: FakeBackend, line: string, extra: Partial<CliIo> = {}) {
  const [name, ...args] = line.split(' ').filter((x) => x !== '');
  const c = inProcess(b, extra);
  const code = await commands[name!]!(args, c.io);
  return { code, out: c.out(), err: c.err(), paths: c.paths };
}

function walkthroughCluster(): FakeBackend {
  const b = new FakeBackend({ nodeName: 'n1', address: '10.10.105.71' });
  b.membersLan = [member('n1', '10.10.105.71', 'consul')];
  return b;
}

describe('consul members (walkthrough tables)', () => {
  it('one server before join', async () => {
    const r = await consul(walkthroughCluster(), 'members');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'Node  Address            Status  Type    Build  Protocol  DC\n' +
        'n1    10.10.105.71:8301  alive   server  0.5.2  2         dc1\n',
    );
  });

  it('two servers, then n2 left', async () => {
    const b = walkthroughCluster();
    b.membersLan = [member('n2', '10.10.126.101', 'consul'), member('n1', '10.10.105.71', 'consul')];
    expect((await consul(b, 'members')).out).toBe(
      'Node  Address             Status  Type    Build  Protocol  DC\n' +
        'n2    10.10.126.101:8301  alive   server  0.5.2  2         dc1\n' +
        'n1    10.10.105.71:8301   alive   server  0.5.2  2         dc1\n',
    );
    b.membersLan = [member('n1', '10.10.105.71', 'consul'), member('n2', '10.10.126.101', 'consul', 'left')];
    expect((await consul(b, 'members')).out).toBe(
      'Node  Address             Status  Type    Build  Protocol  DC\n' +
        'n1    10.10.105.71:8301   alive   server  0.5.2  2         dc1\n' +
        'n2    10.10.126.101:8301  left    server  0.5.2  2         dc1\n',
    );
  });

  it('with the client n3', async () => {
    const b = walkthroughCluster();
    b.membersLan = [member('n1', '10.10.105.71', 'consul'), member('n3', '10.10.126.187', 'node'), member('n2', '10.10.126.101', 'consul')];
    expect((await consul(b, 'members')).out).toBe(
      'Node  Address             Status  Type    Build  Protocol  DC\n' +
        'n1    10.10.105.71:8301   alive   server  0.5.2  2         dc1\n' +
        'n3    10.10.126.187:8301  alive   client  0.5.2  2         dc1\n' +
        'n2    10.10.126.101:8301  alive   server  0.5.2  2         dc1\n',
    );
  });

  it('-status filters (exit 2 when none match), -detailed shows sorted tags, -wan asks the WAN pool', async () => {
    const b = walkthroughCluster();
    b.membersLan = [member('n1', '10.10.105.71', 'consul'), member('n2', '10.10.126.101', 'consul', 'left')];
    const left = await consul(b, 'members -status=left');
    expect(left.out.split('\n')[1]).toMatch(/^n2 /);
    expect(left.out.trim().split('\n')).toHaveLength(2);
    const none = await consul(b, 'members -status failed');
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    const det = await consul(b, 'members -detailed');
    expect(det.out.split('\n')[0]).toBe('Node  Address             Status  Tags');
    expect(det.out.split('\n')[1]).toBe(
      'n1    10.10.105.71:8301   alive   build=0.5.2:abcdef12,dc=dc1,expect=2,port=8300,role=consul,vsn=2,vsn_max=2,vsn_min=1',
    );
    b.membersWan = [member('n1.dc1', '10.10.105.71', 'consul')];
    const wan = await consul(b, 'members -wan');
    expect(wan.out).toContain('n1.dc1');
    expect(wan.paths[0]).toBe('127.0.0.1:8500 GET /v1/agent/members?wan=1');
  });

  it('an unknown role prints unknown with empty columns and no trailing spaces', async () => {
    const b = walkthroughCluster();
    const odd = member('x', '10.0.0.9', 'node');
    odd.tags = {};
    b.membersLan = [member('n1', '10.10.105.71', 'consul'), odd];
    const lines = (await consul(b, 'members')).out.split('\n');
    expect(lines[2]).toBe('x     10.0.0.9:8301      alive   unknown');
  });

  it('bad flags and args are usage errors', async () => {
    const b = walkthroughCluster();
    const r = await consul(b, 'members -bogus');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^flag provided but not defined: -bogus\nUsage: consul members/);
    expect((await consul(b, 'members -status=(')).err).toMatch(/^Failed to compile status regexp/);
  });
});

describe('consul info', () => {
  it('sections sorted, tab-indented key = value lines sorted by key (walkthrough n1 before join)', async () => {
    const b = walkthroughCluster();
    b.stats = {
      raft: {
        state: 'Follower',
        term: '0',
        applied_index: '0',
        commit_index: '0',
        fsm_pending: '0',
        last_contact: 'never',
        last_log_index: '0',
        last_log_term: '0',
        last_snapshot_index: '0',
        last_snapshot_term: '0',
        num_peers: '0',
      },
      consul: { server: 'true', leader: 'false', bootstrap: 'false', known_datacenters: '1' },
    };
    const r = await consul(b, 'info');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'consul:',
        '\tbootstrap = false',
        '\tknown_datacenters = 1',
        '\tleader = false',
        '\tserver = true',
        'raft:',
        '\tapplied_index = 0',
        '\tcommit_index = 0',
        '\tfsm_pending = 0',
        '\tlast_contact = never',
        '\tlast_log_index = 0',
        '\tlast_log_term = 0',
        '\tlast_snapshot_index = 0',
        '\tlast_snapshot_term = 0',
        '\tnum_peers = 0',
        '\tstate = Follower',
        '\tterm = 0',
        '',
      ].join('\n'),
    );
  });
});

describe('join / leave / force-leave / reload / version', () => {
  it('join prints the walkthrough line; -wan reaches the agent; failures per address', async () => {
    const b = walkthroughCluster();
    const ok = await consul(b, 'join 10.10.126.101');
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('Successfully joined cluster by contacting 1 nodes.\n');
    expect(b.ops.at(-1)).toEqual({ op: 'join', addrs: ['10.10.126.101'], wan: false });
    await consul(b, 'join -wan 10.0.0.5');
    expect(b.ops.at(-1)).toEqual({ op: 'join', addrs: ['10.0.0.5'], wan: true });
    b.unreachable.add('10.0.0.9');
    const two = await consul(b, 'join 10.0.0.9 10.10.126.101');
    expect(two.code).toBe(0);
    expect(two.err).toMatch(/^Error joining address '10\.0\.0\.9': .*connection refused/s);
    expect(two.out).toBe('Successfully joined cluster by contacting 1 nodes.\n');
    const none = await consul(b, 'join 10.0.0.9');
    expect(none.code).toBe(1);
    expect(none.err).toContain('Failed to join any nodes.\n');
    const empty = await consul(b, 'join');
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/^At least one address to join must be specified\./);
  });

  it('leave, force-leave, reload, version', async () => {
    const b = walkthroughCluster();
    const leave = await consul(b, 'leave');
    expect(leave).toMatchObject({ code: 0, out: 'Graceful leave complete\n' });
    expect(b.ops.at(-1)).toEqual({ op: 'leave' });
    b.membersLan.push(member('n3', '10.10.126.187', 'node', 'failed'));
    expect(await consul(b, 'force-leave n3')).toMatchObject({ code: 0, out: '' });
    const unknown = await consul(b, 'force-leave ghost');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe("Error force leaving: agent: No node found with name 'ghost'\n");
    expect((await consul(b, 'force-leave')).err).toMatch(/^A node name must be specified/);
    expect(await consul(b, 'reload')).toMatchObject({ code: 0, out: 'Configuration reload triggered\n' });
    const v = await consul(b, 'version');
    expect(v.out).toBe('Muster v0.1.0 (Consul 0.5.2 compatible)\nConsul Protocol: 2 (Understands back to: 1)\n');
  });

  it('leave without a leader-independent failure reports Consul\'s wording', async () => {
    const b = walkthroughCluster();
    const orig = b.agentOp.bind(b);
    b.agentOp = (op) => (op.op === 'leave' ? Promise.resolve({ ok: false, error: 'serf: leave timed out' }) : orig(op));
    const r = await consul(b, 'leave');
    expect(r).toMatchObject({ code: 1, err: 'Error leaving: serf: leave timed out\n' });
  });
});

describe('consul kv', () => {
  it("put/get/delete with Consul's messages", async () => {
    const b = walkthroughCluster();
    expect(await consul(b, 'kv put redis/config/connections 5')).toMatchObject({ code: 0, out: 'Success! Data written to: redis/config/connections\n' });
    await consul(b, 'kv put redis/config/cpu 128');
    await consul(b, 'kv put memcached/x 1');
    expect((await consul(b, 'kv get redis/config/connections')).out).toBe('5\n');
    const missing = await consul(b, 'kv get not-a-real-key');
    expect(missing).toMatchObject({ code: 1, err: 'Error! No key exists at: not-a-real-key\n' });
    expect((await consul(b, 'kv get -recurse redis/')).out).toBe('redis/config/connections:5\nredis/config/cpu:128\n');
    expect((await consul(b, 'kv get -keys redis/config/')).out).toBe('redis/config/connections\nredis/config/cpu\n');
    expect((await consul(b, 'kv get -keys')).out).toBe('memcached/\nredis/\n');
    const det = (await consul(b, 'kv get -detailed redis/config/connections')).out.split('\n');
    expect(det[0]).toMatch(/^CreateIndex      \d+$/);
    expect(det.slice(1, 7)).toEqual([
      'Flags            0',
      'Key              redis/config/connections',
      'LockIndex        0',
      expect.stringMatching(/^ModifyIndex      \d+$/),
      'Session          -',
      'Value            5',
    ]);
    expect((await consul(b, 'kv delete redis/config/cpu')).out).toBe('Success! Deleted key: redis/config/cpu\n');
    expect((await consul(b, 'kv delete -recurse redis/')).out).toBe('Success! Deleted keys with prefix: redis/\n');
    expect((await consul(b, 'kv get -recurse redis/')).out).toBe('');
    expect((await consul(b, 'kv get')).err).toMatch(/^Error! Missing KEY argument/);
  });

  it('cas, acquire and release', async () => {
    const b = walkthroughCluster();
    await consul(b, 'kv put k 1');
    const cas = await consul(b, 'kv put -cas -modify-index=999 k 10');
    expect(cas).toMatchObject({ code: 1, err: 'Error! Did not write to k: CAS failed\n' });
    const created = await b.handle(request('PUT', '/v1/session/create'));
    const id = (JSON.parse(String(created.body)) as { ID: string }).ID;
    expect(await consul(b, `kv put -acquire -session=${id} lock/update`)).toMatchObject({ code: 0, out: 'Success! Lock acquired on: lock/update\n' });
    expect(await consul(b, `kv put -release -session=${id} lock/update`)).toMatchObject({ code: 0, out: 'Success! Lock released on: lock/update\n' });
    const bad = await consul(b, 'kv put -acquire -session=nope lock/update');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('Error! Failed writing data: Unexpected response code: 500 (invalid session "nope")\n');
    const file = await consul(b, 'kv put f @/tmp/x', { readFile: async () => new TextEncoder().encode('from file') });
    expect(file.code).toBe(0);
    expect((await consul(b, 'kv get f')).out).toBe('from file\n');
  });
});

describe('consul catalog and operator raft', () => {
  it('catalog services (-tags) and nodes', async () => {
    const b = walkthroughCluster();
    await b.handle(request('PUT', '/v1/catalog/register', JSON.stringify({ Node: 'n3', Address: '10.10.126.187', Service: { Service: 'web3', Tags: ['master'], Port: 10000 } })));
    expect((await consul(b, 'catalog services')).out).toBe('web3\n');
    expect((await consul(b, 'catalog services -tags')).out).toBe('web3  master\n');
    expect((await consul(b, 'catalog nodes')).out).toBe('Node  ID  Address        DC\nn1        10.10.105.71   dc1\nn3        10.10.126.187  dc1\n');
    expect((await consul(b, 'catalog nodes -service=web3')).out).toBe('Node  ID  Address        DC\nn3        10.10.126.187  dc1\n');
  });

  it('operator raft list-peers / remove-peer', async () => {
    const b = walkthroughCluster();
    b.membersLan.push(member('n2', '10.10.126.101', 'consul'));
    b.leader = '10.10.126.101:8300';
    b.peers = ['10.10.105.71:8300', '10.10.126.101:8300'];
    expect((await consul(b, 'operator raft list-peers')).out).toBe(
      'Node  ID                  Address             State     Voter  RaftProtocol\n' +
        'n1    10.10.105.71:8300   10.10.105.71:8300   follower  true   <=1\n' +
        'n2    10.10.126.101:8300  10.10.126.101:8300  leader    true   <=1\n',
    );
    expect((await consul(b, 'operator raft remove-peer -address=10.10.105.71:8300')).out).toBe('Removed peer with address "10.10.105.71:8300"\n');
    b.leader = null;
    const nl = await consul(b, 'operator raft list-peers');
    expect(nl).toMatchObject({ code: 1, err: 'Error getting peers: Failed to retrieve raft configuration: Unexpected response code: 500 (No cluster leader)\n' });
  });
});

describe('consul watch and monitor', () => {
  it('-type key runs the handler on each change (blocking queries underneath)', async () => {
    const b = walkthroughCluster();
    await consul(b, 'kv put app/leader n1');
    const seen: string[] = [];
    const pending = consul(b, 'watch -type=key -key=app/leader -max-changes=2 ./h.sh', {
      runHandler: async (_cmd, stdin) => {
        seen.push(stdin);
        return 0;
      },
    });
    setTimeout(() => void consul(b, 'kv put app/leader n2'), 50);
    const r = await pending;
    expect(r.code).toBe(0);
    const docs = seen.map((d) => JSON.parse(d) as { Key: string; Value: string });
    expect(docs.map((d) => Buffer.from(d.Value, 'base64').toString())).toEqual(['n1', 'n2']);
    expect(r.paths[1]).toMatch(/\/v1\/kv\/app\/leader\?index=\d+$/);
  });

  it('with no handler the watch prints the first result and exits, as Consul does (#15)', async () => {
    const b = walkthroughCluster();
    await consul(b, 'kv put app/leader n1');
    const r = await consul(b, 'watch -type=key -key=app/leader');
    expect(r.code).toBe(0);
    expect(r.paths).toHaveLength(1);
    const doc = JSON.parse(r.out) as { Key: string; Value: string };
    expect(Buffer.from(doc.Value, 'base64').toString()).toBe('n1');
    expect(r.out).toMatch(/^\{\n {4}"/); // 4-space indent, like Consul's json.MarshalIndent
  });

  it('a handler gets the JSON on stdin and CONSUL_INDEX', async () => {
    const b = walkthroughCluster();
    const runs: Array<{ cmd: string; stdin: string; env: Record<string, string> }> = [];
    const r = await consul(b, 'watch -type=services -max-changes=1 ./handler.sh arg', {
      runHandler: async (cmd, stdin, env) => {
        runs.push({ cmd, stdin, env });
        return 0;
      },
    });
    expect(r.code).toBe(0);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.cmd).toBe('./handler.sh arg');
    expect(JSON.parse(runs[0]!.stdin)).toEqual({});
    expect(runs[0]!.env['CONSUL_INDEX']).toMatch(/^\d+$/);
  });

  it('watch service/checks/nodes/keyprefix reach the right endpoints; bad types are errors', async () => {
    const b = walkthroughCluster();
    const paths = async (line: string) => (await consul(b, `${line} -max-changes=1`)).paths[0];
    expect(await paths('watch -type=service -service=web3 -passingonly -tag=master')).toBe('127.0.0.1:8500 GET /v1/health/service/web3?tag=master&passing');
    expect(await paths('watch -type=checks')).toBe('127.0.0.1:8500 GET /v1/health/state/any');
    expect(await paths('watch -type=checks -service=web3')).toBe('127.0.0.1:8500 GET /v1/health/checks/web3');
    expect(await paths('watch -type=nodes')).toBe('127.0.0.1:8500 GET /v1/catalog/nodes');
    expect(await paths('watch -type=keyprefix -prefix=app/')).toBe('127.0.0.1:8500 GET /v1/kv/app/?recurse');
    expect((await consul(b, 'watch')).err).toMatch(/^Watch type must be specified/);
    expect((await consul(b, 'watch -type=key')).err).toMatch(/^Must specify a single key to watch/);
    expect((await consul(b, 'watch -type=event')).err).toMatch(/^Unsupported watch type: event/);
  });

  it('monitor prints log lines as they arrive', async () => {
    const b = walkthroughCluster();
    b.log('INFO', '    2015/07/03 09:18:25 [INFO] serf: EventMemberJoin: n1 10.10.105.71');
    b.log('DEBUG', '    2015/07/03 09:18:25 [DEBUG] hidden');
    const pending = consul(b, 'monitor -max-polls=2');
    setTimeout(() => b.log('ERR', '    2015/07/03 09:18:25 [ERR] agent: failed to sync remote state: No cluster leader'), 30);
    const r = await pending;
    expect(r.out).toBe(
      '    2015/07/03 09:18:25 [INFO] serf: EventMemberJoin: n1 10.10.105.71\n' +
        '    2015/07/03 09:18:25 [ERR] agent: failed to sync remote state: No cluster leader\n',
    );
  });
});

describe('agent address and connection errors', () => {
  it('-http-addr and CONSUL_HTTP_ADDR choose the agent', async () => {
    const b = walkthroughCluster();
    const viaFlag = inProcess(b);
    await commands['members']!(['-http-addr=127.0.0.5:8600'], viaFlag.io);
    expect(viaFlag.paths[0]).toMatch(/^127\.0\.0\.5:8600 /);
    const viaEnv = inProcess(b, {}, { CONSUL_HTTP_ADDR: 'http://127.0.0.6:9500' });
    await commands['members']!([], viaEnv.io);
    expect(viaEnv.paths[0]).toMatch(/^127\.0\.0\.6:9500 /);
  });

  it('a refused connection names the address and how to point elsewhere', async () => {
    // Take a free port, then close it again so nothing listens there.
    const srv = await startHttpServer({ ip: '127.0.0.62', port: 0, handle: async () => ({ status: 200, headers: {}, body: '' }) });
    const addr = srv.address;
    await srv.close();
    let err = '';
    const io: CliIo = { stdout: () => {}, stderr: (s) => (err += s), env: { CONSUL_HTTP_ADDR: addr }, http: nodeHttpClient() };
    const code = await commands['members']!([], io);
    expect(code).toBe(1);
    expect(err).toBe(
      `Error connecting to Consul agent at ${addr}: connection refused. Is an agent running? Use -http-addr or CONSUL_HTTP_ADDR to point elsewhere.\n`,
    );
    expect(new ConnectionError(addr, 'x')).toBeInstanceOf(Error);
  });

  it('the real node:http client against the real server gives the same table', async () => {
    const b = walkthroughCluster();
    const srv = await startHttpServer({ ip: '127.0.0.63', port: 0, handle: (r) => b.handle(r) });
    try {
      let out = '';
      const io: CliIo = { stdout: (s) => (out += s), stderr: () => {}, env: {}, http: nodeHttpClient() };
      expect(await commands['members']!([`-http-addr=${srv.address}`], io)).toBe(0);
      expect(out).toBe('Node  Address            Status  Type    Build  Protocol  DC\nn1    10.10.105.71:8301  alive   server  0.5.2  2         dc1\n');
    } finally {
      b.close();
      await srv.close();
    }
  });
});
