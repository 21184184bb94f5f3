// test/http/fake-backend.ts — a one-process stand-in for "agent + servers" behind the HTTP
// handler: RPCs run against a real CatalogFSM (writes applied at an incrementing index,
// blocking reads re-evaluated after every write), agent ops run against in-memory local
// state that syncs into the catalog the way anti-entropy would.
//
// Test-only. Uses real timers for blocking deadlines, which is fine outside core/.
import { CatalogFSM } from '../../core/catalog/fsm.ts';
import type { Command } from '../../core/catalog/commands.ts';
import type { CheckDefinition, ServiceDefinition } from '../../core/agent/definitions.ts';
import { handleHttp } from '../../core/http/handler.ts';
import type {
  AgentOp,
  AgentOpResult,
  AgentSelf,
  ApiContext,
  HttpRequest,
  HttpResponse,
  LocalCheck,
  LocalService,
  LogLine,
  Member,
} from '../../core/http/types.ts';
import { makeRng, type Rng } from '../../core/rng.ts';
import { executeQuery, executeSessionRenew, executeWrite } from '../../core/rpc/query.ts';
import { ERR_NO_LEADER, type ReadRequest, type RpcRequest, type RpcResponse } from '../../core/rpc/types.ts';
import type { HttpOutcome } from '../../core/http/types.ts';
import { ACL_DISABLED, type AclConfig } from '../../core/acl/config.ts';
import { filterValue, resolveOnServer, rpcError as aclRpcError } from '../../core/acl/enforce.ts';

export interface FakeOptions {
  nodeName?: string;
  address?: string;
  datacenter?: string;
  seed?: string;
  /** Clock for commands (default Date.now). */
  now?: () => number;
  /** ACLs enforced as a server would (default: disabled). */
  acl?: AclConfig;
}

interface Waiter {
  req: ReadRequest;
  resolve: (r: RpcResponse) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function member(name: string, addr: string, role: 'consul' | 'node', status: Member['status'] = 'alive', dc = 'dc1'): Member {
  return {
    name,
    addr,
    port: 8301,
    tags: { build: '0.5.2:abcdef12', dc, role, port: '8300', vsn: '2', vsn_min: '1', vsn_max: '2', ...(role === 'consul' ? { expect: '2' } : {}) },
    status,
    protocolMin: 1,
    protocolMax: 2,
    protocolCur: 2,
    delegateMin: 2,
    delegateMax: 4,
    delegateCur: 4,
  };
}

export class FakeBackend {
  readonly fsm = new CatalogFSM();
  index = 0;
  leader: string | null;
  peers: string[];
  readonly nodeName: string;
  readonly address: string;
  readonly datacenter: string;
  readonly rng: Rng;
  readonly now: () => number;
  membersLan: Member[];
  membersWan: Member[] = [];
  stats: Record<string, Record<string, string>> = {};
  readonly services = new Map<string, ServiceDefinition>();
  readonly checks = new Map<string, LocalCheck>();
  readonly ops: AgentOp[] = [];
  readonly logs: LogLine[] = [];
  /** Addresses a join fails for (the error text is what the agent would report). */
  readonly unreachable = new Set<string>();
  private waiters: Waiter[] = [];
  private logWaiters: Array<{ after: number; resolve: (r: AgentOpResult) => void; timer: ReturnType<typeof setTimeout> }> = [];
  rpcCount = 0;
  readonly aclConfig: AclConfig;

  constructor(opts: FakeOptions = {}) {
    this.aclConfig = opts.acl ?? ACL_DISABLED;
    this.nodeName = opts.nodeName ?? 'n1';
    this.address = opts.address ?? '127.0.0.1';
    this.datacenter = opts.datacenter ?? 'dc1';
    this.rng = makeRng(opts.seed ?? 'fake-backend');
    this.now = opts.now ?? (() => Date.now());
    this.leader = `${this.address}:8300`;
    this.peers = [`${this.address}:8300`];
    this.membersLan = [member(this.nodeName, this.address, 'consul')];
    this.mustWrite({
      op: 'register',
      nowMs: this.now(),
      node: { Node: this.nodeName, Address: this.address, Datacenter: this.datacenter },
      checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Output: 'Agent alive and reachable' }],
    });
  }

  private baseCtx: ApiContext | null = null;

  /** The handler is synchronous, so one context object is reused with a fresh clock. */
  ctx(): ApiContext {
    if (!this.baseCtx) {
      this.baseCtx = {
        nowMs: 0,
        rng: this.rng,
        datacenter: this.datacenter,
        nodeName: this.nodeName,
        self: (): AgentSelf => ({
          Config: { Datacenter: this.datacenter, NodeName: this.nodeName, Server: true, SessionTTLMin: 10_000_000_000 },
          Member: this.membersLan.find((m) => m.name === this.nodeName) ?? this.membersLan[0]!,
          Stats: this.stats,
        }),
        membersLan: () => this.membersLan,
        membersWan: () => this.membersWan,
        localServices: () => [...this.services.values()].map(localService),
        localChecks: () => [...this.checks.values()],
        logsAfter: (after) => this.logs.filter((l) => l.seq > after),
        acl: { enabled: this.aclConfig.enabled },
      };
    }
    this.baseCtx.nowMs = this.now();
    return this.baseCtx;
  }

  /** The whole request path: handler → (rpc | agent op) → response. */
  async handle(req: HttpRequest): Promise<HttpResponse> {
    return this.carryOut(handleHttp(req, this.ctx()));
  }

  private async carryOut(out: HttpOutcome): Promise<HttpResponse> {
    switch (out.kind) {
      case 'respond':
        return out.res;
      case 'rpc':
        return out.then(await this.rpc(out.request));
      case 'agent':
        return out.then(await this.agentOp(out.op));
      case 'authorize': {
        const r = resolveOnServer(this.fsm.acl, this.aclConfig, out.token);
        return this.carryOut(out.then(r.ok ? { ok: true, authz: r.authz } : r));
      }
    }
  }

  /** A server's ACL gate: unknown token or missing permission ⇒ the error, before anything runs. */
  rpc(req: RpcRequest): Promise<RpcResponse> {
    if (!this.aclConfig.enabled) return this.rpcUnchecked(req);
    const who = resolveOnServer(this.fsm.acl, this.aclConfig, req.token);
    if (!who.ok) return Promise.resolve({ ok: false, error: who.error });
    if (req.type === 'aclResolve') return Promise.resolve({ ok: true, meta: this.meta(this.index), value: who.identity });
    const denied = aclRpcError(who.authz, this.fsm, req);
    if (denied) return Promise.resolve({ ok: false, error: denied });
    if (req.type !== 'read') return this.rpcUnchecked(req);
    return this.rpcUnchecked(req).then((r) => {
      if (!r.ok) return r;
      const f = filterValue(who.authz, req.query, r.value, who.token);
      return { ...r, value: f.value, meta: { ...r.meta, ...(f.filtered ? { filteredByACLs: true } : {}) } };
    });
  }

  // ------------------------------------------------------------------ servers

  write(command: Command): RpcResponse {
    if (!this.leader) return { ok: false, error: ERR_NO_LEADER };
    const r = executeWrite(this.fsm, ++this.index, command);
    this.wake();
    return r;
  }

  mustWrite(command: Command): void {
    const r = this.write(command);
    if (!r.ok) throw new Error(`fake backend write failed: ${r.error}`);
  }

  private meta(index: number) {
    return { index, knownLeader: this.leader !== null, lastContactMs: 0 };
  }

  private answer(req: ReadRequest): RpcResponse {
    const { index, value } = executeQuery(this.fsm, req.query);
    return { ok: true, meta: this.meta(index), value };
  }

  private rpcUnchecked(req: RpcRequest): Promise<RpcResponse> {
    this.rpcCount++;
    switch (req.type) {
      case 'read': {
        if (!this.leader && req.consistency !== 'stale') return Promise.resolve({ ok: false, error: ERR_NO_LEADER });
        const now = this.answer(req);
        if (req.minIndex === 0 || (now.ok && now.meta.index > req.minIndex) || req.maxWaitMs <= 0) return Promise.resolve(now);
        return new Promise((resolve) => {
          const w: Waiter = {
            req,
            resolve,
            timer: setTimeout(() => {
              this.waiters = this.waiters.filter((x) => x !== w);
              resolve(this.answer(req));
            }, req.maxWaitMs),
          };
          this.waiters.push(w);
        });
      }
      case 'write':
        return Promise.resolve(this.write(req.command as Command));
      case 'statusLeader':
        return Promise.resolve({ ok: true, meta: this.meta(this.index), value: this.leader ?? '' });
      case 'statusPeers':
        return Promise.resolve({ ok: true, meta: this.meta(this.index), value: this.peers });
      case 'raftConfiguration':
        if (!this.leader && req.consistency !== 'stale') return Promise.resolve({ ok: false, error: ERR_NO_LEADER });
        return Promise.resolve({
          ok: true,
          meta: this.meta(this.index),
          value: {
            Servers: this.peers.map((p) => ({
              ID: p,
              Node: this.membersLan.find((m) => `${m.addr}:8300` === p)?.name ?? '(unknown)',
              Address: p,
              Leader: p === this.leader,
              Voter: true,
            })),
            Index: this.index,
          },
        });
      case 'raftRemovePeer': {
        if (!this.leader) return Promise.resolve({ ok: false, error: ERR_NO_LEADER });
        if (!this.peers.includes(req.address)) {
          return Promise.resolve({ ok: false, error: `address "${req.address}" was not found in the Raft configuration` });
        }
        this.peers = this.peers.filter((p) => p !== req.address);
        return Promise.resolve({ ok: true, meta: this.meta(this.index), value: null });
      }
      case 'sessionRenew':
        if (!this.leader) return Promise.resolve({ ok: false, error: ERR_NO_LEADER });
        return Promise.resolve({ ok: true, meta: this.meta(this.index), value: executeSessionRenew(this.fsm, req.id) });
      case 'aclResolve':
        return Promise.resolve({ ok: false, error: 'ACL support disabled' });
    }
  }

  private wake(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const r = this.answer(w.req);
      if (r.ok && r.meta.index > w.req.minIndex) {
        clearTimeout(w.timer);
        w.resolve(r);
      } else still.push(w);
    }
    this.waiters = still;
  }

  /** Drop pending blocking reads (answering them now) so a test can shut down. */
  close(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(this.answer(w.req));
    }
    this.waiters = [];
    for (const w of this.logWaiters) {
      clearTimeout(w.timer);
      w.resolve({ ok: true, value: [] });
    }
    this.logWaiters = [];
  }

  // -------------------------------------------------------------------- agent

  log(level: LogLine['level'], text: string): void {
    const line = { seq: this.logs.length + 1, level, text };
    this.logs.push(line);
    for (const w of this.logWaiters) {
      clearTimeout(w.timer);
      w.resolve({ ok: true, value: this.logs.filter((l) => l.seq > w.after) });
    }
    this.logWaiters = [];
  }

  private syncService(def: ServiceDefinition): RpcResponse {
    return this.write({
      op: 'register',
      nowMs: this.now(),
      node: { Node: this.nodeName, Address: this.address, Datacenter: this.datacenter },
      service: {
        ID: def.id,
        Service: def.name,
        Tags: def.tags,
        Address: def.address,
        Port: def.port,
        Meta: def.meta,
        EnableTagOverride: def.enableTagOverride,
        Weights: { Passing: def.weights.passing, Warning: def.weights.warning },
      },
      checks: def.checks.map((c) => {
        const local = this.checks.get(c.id)!;
        return { CheckID: c.id, Name: c.name, Status: local.Status, Notes: c.notes, Output: local.Output, ServiceID: def.id, Type: c.probe.type };
      }),
    });
  }

  private addCheck(c: CheckDefinition, serviceName: string, tags: string[]): void {
    this.checks.set(c.id, {
      Node: this.nodeName,
      CheckID: c.id,
      Name: c.name,
      Status: c.status,
      Notes: c.notes,
      Output: '',
      ServiceID: c.serviceId,
      ServiceName: serviceName,
      ServiceTags: tags,
      Type: c.probe.type,
    });
  }

  agentOp(op: AgentOp): Promise<AgentOpResult> {
    this.ops.push(op);
    const fromRpc = (r: RpcResponse): AgentOpResult => (r.ok ? { ok: true } : { ok: false, error: r.error });
    switch (op.op) {
      case 'join': {
        const bad = op.addrs.filter((a) => this.unreachable.has(a));
        if (bad.length === op.addrs.length) {
          return Promise.resolve({ ok: false, error: `1 error(s) occurred:\n\n* Failed to join ${bad[0]}: dial tcp ${bad[0]}:8301: connect: connection refused` });
        }
        return Promise.resolve({ ok: true, value: op.addrs.length - bad.length });
      }
      case 'leave':
      case 'reload':
      case 'nodeMaintenance':
        return Promise.resolve({ ok: true });
      case 'forceLeave': {
        const m = this.membersLan.find((x) => x.name === op.node);
        if (!m) return Promise.resolve({ ok: false, error: `agent: No node found with name '${op.node}'` });
        if (m.status === 'failed') m.status = 'left';
        return Promise.resolve({ ok: true });
      }
      case 'serviceRegister': {
        const def = op.def;
        this.services.set(def.id, def);
        for (const c of def.checks) this.addCheck(c, def.name, def.tags);
        return Promise.resolve(fromRpc(this.syncService(def)));
      }
      case 'serviceDeregister': {
        const def = this.services.get(op.id);
        if (!def) return Promise.resolve({ ok: false, error: `Unknown service "${op.id}"` });
        this.services.delete(op.id);
        for (const c of def.checks) this.checks.delete(c.id);
        return Promise.resolve(fromRpc(this.write({ op: 'deregister', nowMs: this.now(), node: this.nodeName, serviceId: op.id })));
      }
      case 'serviceMaintenance':
        if (!this.services.has(op.id)) return Promise.resolve({ ok: false, status: 404, error: `No service registered with ID "${op.id}"` });
        return Promise.resolve({ ok: true });
      case 'checkRegister': {
        const svc = op.def.serviceId ? this.services.get(op.def.serviceId) : undefined;
        if (op.def.serviceId && !svc) return Promise.resolve({ ok: false, error: `ServiceID "${op.def.serviceId}" does not exist` });
        this.addCheck(op.def, svc?.name ?? '', svc?.tags ?? []);
        const local = this.checks.get(op.def.id)!;
        return Promise.resolve(
          fromRpc(
            this.write({
              op: 'register',
              nowMs: this.now(),
              node: { Node: this.nodeName, Address: this.address, Datacenter: this.datacenter },
              checks: [{ CheckID: local.CheckID, Name: local.Name, Status: local.Status, Notes: local.Notes, ServiceID: local.ServiceID, Type: local.Type }],
            }),
          ),
        );
      }
      case 'checkDeregister': {
        if (!this.checks.delete(op.id)) return Promise.resolve({ ok: false, error: `Unknown check "${op.id}"` });
        return Promise.resolve(fromRpc(this.write({ op: 'deregister', nowMs: this.now(), node: this.nodeName, checkId: op.id })));
      }
      case 'checkUpdate': {
        const c = this.checks.get(op.id);
        if (!c || c.Type !== 'ttl') return Promise.resolve({ ok: false, error: `CheckID "${op.id}" does not have associated TTL` });
        c.Status = op.status;
        c.Output = op.output;
        return Promise.resolve(
          fromRpc(this.write({ op: 'updateCheckStatus', nowMs: this.now(), node: this.nodeName, checkId: op.id, status: op.status, output: op.output })),
        );
      }
      case 'monitor': {
        const now = this.logs.filter((l) => l.seq > op.afterSeq);
        if (now.length > 0 || op.maxWaitMs <= 0) return Promise.resolve({ ok: true, value: now });
        return new Promise((resolve) => {
          const w = { after: op.afterSeq, resolve, timer: setTimeout(() => resolve({ ok: true, value: [] }), op.maxWaitMs) };
          this.logWaiters.push(w);
        });
      }
    }
  }
}

function localService(d: ServiceDefinition): LocalService {
  return {
    ID: d.id,
    Service: d.name,
    Tags: d.tags,
    Meta: d.meta,
    Port: d.port,
    Address: d.address,
    EnableTagOverride: d.enableTagOverride,
    Weights: { Passing: d.weights.passing, Warning: d.weights.warning },
  };
}

/** Build an HttpRequest from "METHOD /path?query" plus an optional body. */
export function request(method: string, url: string, body?: string | Uint8Array, headers: Record<string, string> = {}): HttpRequest {
  const q = url.indexOf('?');
  const query: Array<[string, string]> = [];
  if (q >= 0) for (const [k, v] of new URLSearchParams(url.slice(q + 1))) query.push([k, v]);
  return {
    method,
    path: q >= 0 ? url.slice(0, q) : url,
    query,
    headers,
    body: body === undefined ? new Uint8Array() : typeof body === 'string' ? new TextEncoder().encode(body) : body,
    remoteAddr: '127.0.0.1:50000',
  };
}

export function bodyText(res: HttpResponse): string {
  return typeof res.body === 'string' ? res.body : new TextDecoder().decode(res.body);
}

export function bodyJsonOf(res: HttpResponse): unknown {
  return JSON.parse(bodyText(res));
}

