// test/ui/server.ts — the HTTP server the browser tests drive: the UI (serveUi) in front of
// the v1 API, on a loopback address, seeded with the walkthrough's cluster (servers n1 and
// n2, client n3; service web3 on n2 and n3 with an HTTP check on :10000/health).
//
// Test-only. Everything the browser tests do to the cluster goes through the UiTestServer
// methods, so switching from the fake backend to a real-mode agent changes this file only.
import { startHttpServer } from '../../transports/http-server.ts';
import { serveUi } from '../../transports/ui-static.ts';
import type { HttpResponse } from '../../core/http/types.ts';
import { FakeBackend, member } from '../http/fake-backend.ts';
import { ensureUiBuilt } from './build.ts';

export const UI_TEST_IP = '127.0.0.61';

const N1 = '10.10.105.71';
const N2 = '10.10.126.101';
const N3 = '10.10.126.187';
const WEB3_CHECK = 'service:web3';
const PASSING_OUTPUT = 'HTTP GET http://localhost:10000/health: 200 OK Output: hello web3';

export interface UiTestServer {
  /** Base URL, e.g. "http://127.0.0.61:41234". */
  url: string;
  /** Set a check's status as the agent running it would report it. */
  setCheck(node: string, checkId: string, status: 'passing' | 'warning' | 'critical', output: string): void;
  /** Servers lose their leader: reads answer 500 "No cluster leader". */
  loseLeader(): void;
  /** A leader is elected again. */
  restoreLeader(): void;
  /** `consul leave` on a node: gossip marks it left and the leader drops it from the catalog. */
  leaveNode(node: string): void;
  close(): Promise<void>;
}

function seedWalkthrough(b: FakeBackend): void {
  b.membersLan = [member('n1', N1, 'consul'), member('n2', N2, 'consul'), member('n3', N3, 'node')];
  b.peers = [`${N1}:8300`, `${N2}:8300`];
  b.leader = `${N2}:8300`;
  const serf = { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' as const, Output: 'Agent alive and reachable' };
  for (const [node, addr] of [
    ['n1', N1],
    ['n3', N3],
  ] as const) {
    b.mustWrite({ op: 'register', nowMs: b.now(), node: { Node: node, Address: addr, Datacenter: 'dc1' }, checks: [serf] });
  }
  for (const [node, addr] of [
    ['n2', N2],
    ['n3', N3],
  ] as const) {
    b.mustWrite({
      op: 'register',
      nowMs: b.now(),
      node: { Node: node, Address: addr, Datacenter: 'dc1' },
      service: { ID: 'web3', Service: 'web3', Tags: ['master'], Address: '127.0.0.1', Port: 10000 },
      checks: [{ CheckID: WEB3_CHECK, Name: "Service 'web3' check", Status: 'passing', Output: PASSING_OUTPUT, ServiceID: 'web3', Type: 'http' }],
    });
  }
  // `consul info`'s raft section of the agent the UI talks to (n2, the leader); the
  // indexes follow the fake's Raft index so they move as the cluster changes.
  const raft: Record<string, string> = {};
  Object.defineProperties(raft, {
    state: { enumerable: true, get: () => (b.leader === `${N2}:8300` ? 'Leader' : b.leader ? 'Follower' : 'Candidate') },
    term: { enumerable: true, get: () => String(b.leader ? 2 : 3) },
    commit_index: { enumerable: true, get: () => String(b.index) },
    applied_index: { enumerable: true, get: () => String(b.index) },
    last_log_index: { enumerable: true, get: () => String(b.index) },
    last_log_term: { enumerable: true, get: () => '2' },
    num_peers: { enumerable: true, get: () => '1' },
    last_contact: { enumerable: true, get: () => (b.leader === `${N2}:8300` ? 'never' : '0') },
  });
  b.stats = { consul: { server: 'true', bootstrap: 'false', known_datacenters: '1' }, raft };
}

export async function startUiTestServer(): Promise<UiTestServer> {
  ensureUiBuilt();
  const backend = new FakeBackend({ nodeName: 'n2', address: N2, seed: 'ui-test' });
  seedWalkthrough(backend);
  const ui = serveUi({});
  const server = await startHttpServer({
    ip: UI_TEST_IP,
    port: 0,
    handle: async (req): Promise<HttpResponse> => ui(req) ?? backend.handle(req),
  });
  let leader = backend.leader;
  return {
    url: `http://${server.address}`,
    setCheck(node, checkId, status, output) {
      backend.mustWrite({ op: 'updateCheckStatus', nowMs: backend.now(), node, checkId, status, output });
    },
    loseLeader() {
      leader = backend.leader ?? leader;
      backend.leader = null;
    },
    restoreLeader() {
      backend.leader = leader;
    },
    leaveNode(node) {
      const m = backend.membersLan.find((x) => x.name === node);
      if (!m) throw new Error(`leaveNode: no member ${node}`);
      m.status = 'left';
      backend.mustWrite({ op: 'deregister', nowMs: backend.now(), node });
    },
    async close() {
      backend.close();
      await server.close();
    },
  };
}
