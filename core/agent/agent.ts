// core/agent/agent.ts — the agent: one machine composing gossip, Raft, the catalog and local state.
//
// Owns: routing inputs to its parts (LAN/WAN serf, Raft, server RPC, HTTP, DNS, checks),
// Consul's agent behaviour around them (bootstrap-expect, leader reconciliation of gossip
// into Raft and the catalog, anti-entropy, request forwarding, graceful leave), and the log
// lines the walkthrough shows.
// Must never: perform I/O or read a clock; it only returns effects. Children's timers are
// namespaced ('lan:', 'wan:', 'raft:') so one host timer table serves all of them.
//
// Ordering obligations: effects are carried out in order by the host. Raft's persist-before-
// send is preserved because Raft's effects are forwarded unreordered; an HTTP reply for a
// write is emitted only after the entry was applied to the local catalog.
import type { BaseEffect, LogLevel, ReceiveInput, TimerInput, UnreachableInput } from '../machine.ts';
import type { Rng } from '../rng.ts';
import type { CheckSpec, ProbeResult } from '../runtime/ports.ts';
import type { HealthStatus } from '../catalog/types.ts';
import { SERF_HEALTH_CHECK_ID, SERF_HEALTH_CHECK_NAME } from '../catalog/types.ts';
import { CatalogFSM } from '../catalog/fsm.ts';
import type { Command } from '../catalog/commands.ts';
import { RaftNode } from '../raft/node.ts';
import { defaultRaftConfig, type RaftConfig, type RaftEffect } from '../raft/types.ts';
import { Serf, type GossipEffect, type Member } from '../gossip/serf.ts';
import { encodeMessage, decodeMessage } from '../codec/wire.ts';
import { executeQuery } from '../rpc/query.ts';
import type { QueryMeta, ReadRequest, RpcRequest, RpcResponse } from '../rpc/types.ts';
import { ERR_NO_LEADER, ERR_NO_SERVERS } from '../rpc/types.ts';
import type { AgentConfig } from './config.ts';
import { parseGoDuration } from '../http/duration.ts';
import { LocalState, type LocalService } from './local-state.ts';
import { agentOwnedCheck, toLocalCheck, type Definitions } from './checks.ts';
import type { ServiceDefinition } from './definitions.ts';
export type { Definitions } from './checks.ts';
import { isRpcMessage, type AgentRpcMessage, type AgentRpcRequest } from './wire.ts';
import { resolveQuery, type DnsOutcome } from '../dns/answer.ts';
import { SEAL_OVERHEAD_BYTES } from '../runtime/ports.ts';
import { makeDnsConfig, type DnsConfig } from '../dns/config.ts';
import { DnsAnswerCache } from '../dns/cache.ts';
import { handleHttp } from '../http/handler.ts';
import type { AgentOp, AgentOpResult, AgentSelf, ApiContext, HttpRequest, HttpResponse, LogLine } from '../http/types.ts';
import { formatLogLine } from '../runtime/log-format.ts';
import { buildAgentStats, type RuntimeFacts } from './stats.ts';
import { registerNodeCommand, deregisterNodeCommand, deregisterServiceCommand, deregisterCheckCommand } from './commands.ts';

export const BUILD_VERSION = '0.5.2';
export const BUILD_TAG = '0.5.2:muster01';
/** Consul's anti-entropy interval and retry after a failed sync. */
const AE_INTERVAL_MS = 60_000;
const AE_RETRY_MS = 15_000;
const RECONCILE_INTERVAL_MS = 60_000;
/** Re-check soon after asking Raft for a peer change (it may have refused: one at a time). */
const PEER_RECHECK_MS = 2_000;
const RPC_TIMEOUT_SLACK_MS = 10_000;
const CHECK_UPDATE_INTERVAL_MS = 5 * 60_000;
/** Consul's check reaper period and the floor of deregister_critical_service_after. */
const CHECK_REAP_INTERVAL_MS = 30_000;
const CHECK_DEREGISTER_MIN_MS = 60_000;
/** How long a leaving leader waits for its own removal from Raft before leaving gossip anyway. */
const RAFT_LEAVE_TIMEOUT_MS = 5_000;

export interface AgentDeps {
  config: AgentConfig;
  rng: Rng;
  definitions: Definitions;
  /** Reads files under the data dir (relative paths), for recovery at start. */
  disk: { read(path: string): Uint8Array | null; list(dir: string): string[] };
  runtime: RuntimeFacts;
  raftOverrides?: Partial<RaftConfig>;
  /** Added to the machine clock when formatting log lines for /v1/agent/monitor (sim: its epoch). */
  logEpochMs?: number;
  /** Test-only planted bugs, off by default, so the cluster fuzzer's checkers can be shown to fail. */
  bugs?: AgentBugs;
  /** Which gossip pools the host seals (keyring in use); sizes datagrams and `consul info`'s `encrypted`. */
  gossipEncrypted?: { lan: boolean; wan: boolean };
}

export interface AgentBugs {
  /** Serve default-consistency reads from local state on any server, without lease or leader. */
  staleRead?: boolean;
  /** Acknowledge a write as soon as it is proposed, before it commits. */
  lostAck?: boolean;
}

export type AgentInput =
  | TimerInput
  | ReceiveInput<unknown>
  | UnreachableInput<unknown>
  | { kind: 'start' }
  | { kind: 'http'; reqId: number; req: HttpRequest }
  | { kind: 'dns'; reqId: number; bytes: Uint8Array; transport: 'udp' | 'tcp' }
  | { kind: 'probeResult'; checkId: string; gen: number; result: ProbeResult }
  | { kind: 'signal'; sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP' }
  | { kind: 'reload'; definitions: Definitions };

export type AgentEffect =
  | BaseEffect<unknown>
  | { kind: 'httpResponse'; reqId: number; res: HttpResponse }
  | { kind: 'dnsResponse'; reqId: number; bytes: Uint8Array | null }
  /** Ask `recursors` in order (each for up to timeoutMs); relay the first reply, else SERVFAIL. */
  | { kind: 'dnsForward'; reqId: number; recursors: string[]; request: Uint8Array; timeoutMs: number }
  | { kind: 'probe'; checkId: string; gen: number; spec: CheckSpec }
  | { kind: 'exit'; code: number }
  /** Re-read the service/check definitions from disk and step 'reload' (HTTP /v1/agent/reload). */
  | { kind: 'reloadConfig' };

interface ParkedRead {
  id: number;
  req: ReadRequest;
  reply: (r: RpcResponse) => void;
}

interface PendingRpc {
  reply: (r: RpcResponse) => void;
  server: string;
}

type Phase = 'running' | 'leaving' | 'stopped';

export class Agent {
  readonly cfg: AgentConfig;
  readonly lan: Serf;
  readonly wan: Serf | null;
  readonly raft: RaftNode | null;
  fsm: CatalogFSM | null;
  readonly local: LocalState;
  private readonly rng: Rng;
  private readonly runtime: RuntimeFacts;
  private out: AgentEffect[] = [];
  private now = 0;
  private phase: Phase = 'running';
  private nextId = 1;
  private readonly pendingRpc = new Map<number, PendingRpc>();
  private readonly parked = new Map<number, ParkedRead>();
  private readonly pendingApply = new Map<number, (r: RpcResponse) => void>();
  private readonly applyResults = new Map<number, RpcResponse>();
  private proposalQueue: { reqId: number; data: Uint8Array }[] = [];
  private readonly pendingPropose = new Map<number, (r: RpcResponse) => void>();
  private readonly pendingReads = new Map<number, () => void>();
  private readonly checkGen = new Map<string, number>();
  private bootstrapExpect: number;
  private afterRaftLeave: (() => void) | null = null;
  private lastLeader: string | null = null;
  private isLeader = false;
  private aeRunning = false;
  /** A local change arrived while a sync was running: run another pass when it ends. */
  private syncAgain = false;
  private joinWaiters = new Map<number, (contacted: number, errors: string[]) => void>();
  private leaveWaiters = new Map<number, () => void>();
  private readonly logLines: LogLine[] = [];
  private logSeq = 0;
  private readonly monitorWaiters = new Map<number, (lines: LogLine[]) => void>();
  private readonly logEpochMs: number;
  private readonly serverAddr: string;
  private readonly bugs: AgentBugs;
  private readonly dnsConfig: DnsConfig;
  /** For queries a client forwarded by RPC: the client recursed itself if it could. */
  private readonly dnsRpcConfig: DnsConfig;
  private readonly dnsCache = new DnsAnswerCache();
  /** A client's stand-in catalog: only used to tell names outside the domain from the rest. */
  private emptyView: CatalogFSM | null = null;
  private readonly gossipEncrypted: { lan: boolean; wan: boolean };

  constructor(deps: AgentDeps) {
    const cfg = deps.config;
    this.cfg = cfg;
    this.rng = deps.rng;
    this.runtime = deps.runtime;
    this.bootstrapExpect = cfg.bootstrapExpect;
    this.logEpochMs = deps.logEpochMs ?? 0;
    this.bugs = deps.bugs ?? {};
    this.local = new LocalState(CHECK_UPDATE_INTERVAL_MS);
    this.serverAddr = `${cfg.advertiseAddr}:${cfg.ports.server}`;
    this.dnsConfig = makeDnsConfig({ domain: cfg.domain, recursors: cfg.recursors });
    this.dnsRpcConfig = cfg.recursors.length > 0 ? { ...this.dnsConfig, recursors: [] } : this.dnsConfig;
    this.gossipEncrypted = deps.gossipEncrypted ?? { lan: false, wan: false };
    // Sealing adds SEAL_OVERHEAD_BYTES to every datagram; gossip packs that much less (memberlist's encryptOverhead).
    const sealedBudget = { udpBufferSize: 1400 - SEAL_OVERHEAD_BYTES };

    const lanTags: Record<string, string> = {
      role: cfg.server ? 'consul' : 'node',
      dc: cfg.datacenter,
      vsn: '2',
      vsn_min: '1',
      vsn_max: '2',
      build: BUILD_TAG,
    };
    if (cfg.server) {
      lanTags.port = String(cfg.ports.server);
      if (cfg.bootstrap) lanTags.bootstrap = '1';
      if (cfg.bootstrapExpect > 0) lanTags.expect = String(cfg.bootstrapExpect);
    }
    this.lan = Serf.recover(
      {
        name: cfg.nodeName,
        ip: cfg.advertiseAddr,
        port: cfg.ports.serfLan,
        tags: lanTags,
        profile: 'lan',
        ...(this.gossipEncrypted.lan ? sealedBudget : {}),
        rejoin: cfg.rejoinAfterLeave,
        snapshotPath: 'serf/local.snapshot',
      },
      deps.disk.read('serf/local.snapshot'),
      deps.rng.fork('serf-lan'),
    );
    if (cfg.server) {
      this.wan = Serf.recover(
        {
          name: `${cfg.nodeName}.${cfg.datacenter}`,
          ip: cfg.advertiseAddr,
          port: cfg.ports.serfWan,
          tags: { ...lanTags },
          profile: 'wan',
          ...(this.gossipEncrypted.wan ? sealedBudget : {}),
          rejoin: cfg.rejoinAfterLeave,
          snapshotPath: 'serf/remote.snapshot',
        },
        deps.disk.read('serf/remote.snapshot'),
        deps.rng.fork('serf-wan'),
      );
      const raftCfg: RaftConfig = {
        ...defaultRaftConfig(this.serverAddr),
        enableSingleNode: cfg.bootstrap,
        ...(deps.raftOverrides ?? {}),
      };
      this.raft = RaftNode.recover(raftCfg, deps.disk, { rng: deps.rng.fork('raft') });
      this.fsm = new CatalogFSM();
    } else {
      this.wan = null;
      this.raft = null;
      this.fsm = null;
    }
    this.loadDefinitions(deps.definitions);
  }

  // ------------------------------------------------------------------ entry point

  step(nowMs: number, input: AgentInput): AgentEffect[] {
    this.now = nowMs;
    this.out = [];
    if (this.phase === 'stopped') return [];
    switch (input.kind) {
      case 'start':
        this.onStart();
        break;
      case 'timer':
        this.onTimer(input.name);
        break;
      case 'receive':
        this.onReceive(input);
        break;
      case 'unreachable':
        this.onUnreachable(input);
        break;
      case 'http':
        this.onHttp(input.reqId, input.req);
        break;
      case 'dns':
        this.onDns(input.reqId, input.bytes, input.transport);
        break;
      case 'probeResult':
        this.onProbeResult(input.checkId, input.gen, input.result);
        break;
      case 'signal':
        this.onSignal(input.sig);
        break;
      case 'reload':
        this.onReload(input.definitions);
        break;
    }
    return this.out;
  }

  // ------------------------------------------------------------------ small helpers

  private log(level: LogLevel, source: string, text: string): void {
    this.out.push({ kind: 'log', level, source, text });
    this.remember(level, source, text);
  }

  /** Keep a line for /v1/agent/monitor — the agent's own and its children's, as Consul streams them all. */
  private remember(level: LogLevel, source: string, text: string): void {
    const line: LogLine = { seq: ++this.logSeq, level, text: formatLogLine(level, source, text, this.logEpochMs + this.now) };
    this.logLines.push(line);
    if (this.logLines.length > 512) this.logLines.shift();
    if (this.monitorWaiters.size > 0) {
      const waiters = [...this.monitorWaiters.entries()];
      this.monitorWaiters.clear();
      for (const [id, w] of waiters) {
        this.cancelTimer(`monitor:${id}`);
        w([line]);
      }
    }
  }

  private timer(name: string, atMs: number): void {
    this.out.push({ kind: 'timer', name, atMs });
  }

  private cancelTimer(name: string): void {
    this.out.push({ kind: 'cancelTimer', name });
  }

  private id(): number {
    return this.nextId++;
  }

  logsAfter(afterSeq: number): LogLine[] {
    return this.logLines.filter((l) => l.seq > afterSeq);
  }

  get isServer(): boolean {
    return this.cfg.server;
  }

  get nodeName(): string {
    return this.cfg.nodeName;
  }

  // ------------------------------------------------------------------ children

  // A child's effects are forwarded in order before anything they trigger runs: a reaction
  // that steps the same child again (a proposal made while handling an apply) is queued until
  // the current batch is out, or its persist effects would overtake the batch's own.
  private readonly busy = { lan: false, wan: false, raft: false };
  private readonly queued: { lan: unknown[]; wan: unknown[]; raft: unknown[] } = { lan: [], wan: [], raft: [] };

  private stepChild(which: 'lan' | 'wan' | 'raft', input: unknown): void {
    if (this.busy[which]) {
      this.queued[which].push(input);
      return;
    }
    this.busy[which] = true;
    try {
      let next: unknown = input;
      for (;;) {
        if (which === 'raft') this.absorbRaft(this.raft!.step(this.now, next as Parameters<RaftNode['step']>[1]));
        else {
          const serf = which === 'lan' ? this.lan : this.wan!;
          this.absorbGossip(which, serf.step(this.now, next as Parameters<Serf['step']>[1]));
        }
        if (this.queued[which].length === 0) break;
        next = this.queued[which].shift();
      }
    } finally {
      this.busy[which] = false;
    }
  }

  private stepLan(input: Parameters<Serf['step']>[1]): void {
    this.stepChild('lan', input);
  }

  private stepWan(input: Parameters<Serf['step']>[1]): void {
    if (this.wan) this.stepChild('wan', input);
  }

  private stepRaft(input: Parameters<RaftNode['step']>[1]): void {
    if (this.raft) this.stepChild('raft', input);
  }

  private absorbGossip(pool: 'lan' | 'wan', effects: GossipEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'timer':
          this.timer(`${pool}:${e.name}`, e.atMs);
          break;
        case 'cancelTimer':
          this.cancelTimer(`${pool}:${e.name}`);
          break;
        case 'joinResult': {
          const w = this.joinWaiters.get(e.reqId);
          this.joinWaiters.delete(e.reqId);
          w?.(e.contacted, e.errors);
          break;
        }
        case 'leaveDone': {
          const w = this.leaveWaiters.get(e.reqId);
          this.leaveWaiters.delete(e.reqId);
          w?.();
          break;
        }
        case 'memberEvent':
          this.onMemberEvent(pool, e.type, e.member);
          break;
        case 'log':
          this.out.push(e);
          this.remember(e.level, e.source, e.text);
          break;
        default:
          this.out.push(e as AgentEffect);
      }
    }
  }

  private absorbRaft(effects: RaftEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'timer':
          this.timer(`raft:${e.name}`, e.atMs);
          break;
        case 'cancelTimer':
          this.cancelTimer(`raft:${e.name}`);
          break;
        case 'apply':
          this.onApply(e.index, e.data);
          break;
        case 'restoreSnapshot':
          this.fsm = CatalogFSM.restore(e.data);
          this.wakeParked();
          break;
        case 'takeSnapshot':
          if (this.fsm) {
            const data = this.fsm.snapshot();
            this.stepRaft({ kind: 'snapshotTaken', index: e.index, term: this.raftTermAt(e.index), data });
          }
          break;
        case 'proposeResult': {
          const cb = this.pendingPropose.get(e.reqId);
          this.pendingPropose.delete(e.reqId);
          if (!cb) break;
          if (e.ok && e.index !== undefined) {
            // Raft reports a proposal after its entry was applied (same batch): its result waits here.
            const applied = this.applyResults.get(e.index);
            this.applyResults.delete(e.index);
            if (applied) cb(applied);
            else this.pendingApply.set(e.index, cb);
          } else cb({ ok: false, error: e.error ?? ERR_NO_LEADER });
          break;
        }
        case 'readResult': {
          const cb = this.pendingReads.get(e.reqId);
          this.pendingReads.delete(e.reqId);
          if (!cb) break;
          if (e.ok) cb();
          else this.failRead(e.reqId, e.error ?? ERR_NO_LEADER);
          break;
        }
        case 'stateChange':
          this.onRaftStateChange(e.state, e.leader);
          break;
        case 'log':
          this.out.push(e);
          this.remember(e.level, e.source, e.text);
          break;
        default:
          this.out.push(e as AgentEffect);
      }
    }
  }

  private raftTermAt(index: number): number {
    return this.raft?.termAt(index) ?? 0;
  }

  // ------------------------------------------------------------------ start / stop

  private onStart(): void {
    const cfg = this.cfg;
    this.stepLan({ kind: 'start' });
    this.stepWan({ kind: 'start' });
    if (this.raft) this.stepRaft({ kind: 'start' });
    if (cfg.server && this.raft && this.raft.lastIndex > 0) this.bootstrapExpect = 0;
    // -bootstrap: a fresh server seeds its peer set with itself and may elect itself alone.
    if (cfg.server && cfg.bootstrap && this.raft && this.raft.peers.length === 0 && this.raft.lastIndex === 0) {
      this.stepRaft({ kind: 'bootstrap', peers: [this.serverAddr] });
    }
    // Every check starts after a random stagger within its interval, as Consul does, so a
    // restarted fleet does not probe in lockstep.
    for (const c of this.local.sortedChecks()) this.scheduleCheck(c.id, true);
    this.timer('ae', this.now);
    for (const c of this.local.sortedChecks()) if (c.status === 'critical') c.criticalSinceMs = this.now;
    this.timer('reap', this.now + CHECK_REAP_INTERVAL_MS);
    if (this.raft) this.timer('reconcile', this.now + RECONCILE_INTERVAL_MS);
    const joins = [...cfg.startJoin, ...cfg.retryJoin];
    if (joins.length > 0) this.joinLan(joins, (n, errs) => this.onStartJoin(n, errs));
  }

  private onStartJoin(contacted: number, errors: string[]): void {
    if (contacted === 0 && this.cfg.retryJoin.length > 0) {
      this.log('WARN', 'agent', `Join failed: ${errors.join('; ')}, retrying in ${this.cfg.retryIntervalMs / 1000}s`);
      this.timer('retryJoin', this.now + this.cfg.retryIntervalMs);
    }
  }

  private shutdown(code: number): void {
    this.log('INFO', 'agent', 'requesting shutdown');
    if (this.cfg.server) this.log('INFO', 'consul', 'shutting down server');
    this.log('INFO', 'agent', 'shutdown complete');
    this.phase = 'stopped';
    this.out.push({ kind: 'exit', code });
  }

  private onSignal(sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void {
    if (sig === 'SIGHUP') {
      this.log('INFO', 'agent', 'Caught signal: hangup, reloading');
      return; // the process layer re-reads the config dir and sends 'reload'
    }
    const graceful = sig === 'SIGINT' ? this.cfg.leaveOnInterrupt : this.cfg.leaveOnTerminate;
    this.log('INFO', 'agent', `Caught signal: ${sig === 'SIGINT' ? 'interrupt' : 'terminated'}`);
    if (graceful && this.phase === 'running') {
      this.log('INFO', 'agent', 'Gracefully shutting down agent...');
      this.gracefulLeave(() => this.shutdown(0));
    } else {
      this.shutdown(sig === 'SIGINT' ? 0 : 1);
    }
  }

  /**
   * Consul 0.5's leave: a leader with other peers first removes itself from Raft (so quorum
   * shrinks before it goes) and waits until that took effect, then leaves the WAN pool, then
   * the LAN pool. Any server clears its peer set (peers.json := null) on the way out.
   */
  private gracefulLeave(done: () => void): void {
    if (this.phase !== 'running') return;
    this.phase = 'leaving';
    const gossipLeave = (): void => {
      const afterWan = (): void => {
        const reqId = this.id();
        this.leaveWaiters.set(reqId, done);
        this.stepLan({ kind: 'leave', reqId });
      };
      if (this.wan) {
        const reqId = this.id();
        this.leaveWaiters.set(reqId, afterWan);
        this.stepWan({ kind: 'leave', reqId });
      } else afterWan();
    };
    if (!this.raft) {
      gossipLeave();
      return;
    }
    this.log('INFO', 'consul', 'server starting leave');
    if (this.isLeader && this.raft.peers.length > 1) {
      this.afterRaftLeave = gossipLeave;
      this.timer('leaveRaft', this.now + RAFT_LEAVE_TIMEOUT_MS);
      this.stepRaft({ kind: 'leave' });
      return;
    }
    this.stepRaft({ kind: 'leave' });
    gossipLeave();
  }

  private finishRaftLeave(timedOut: boolean): void {
    const next = this.afterRaftLeave;
    if (!next) return;
    this.afterRaftLeave = null;
    this.cancelTimer('leaveRaft');
    if (timedOut) this.log('WARN', 'consul', 'failed to leave raft configuration gracefully, timeout');
    next();
  }

  // ------------------------------------------------------------------ definitions

  private loadDefinitions(defs: Definitions): void {
    if (this.cfg.server) {
      this.local.addService({
        id: 'consul',
        name: 'consul',
        tags: [],
        address: '',
        port: this.cfg.ports.server,
        meta: {},
        enableTagOverride: false,
        weights: { passing: 1, warning: 1 },
      });
    }
    for (const s of defs.services) this.addServiceDef(s);
    for (const c of defs.checks) this.local.addCheck(toLocalCheck(c));
  }

  private addServiceDef(s: ServiceDefinition): void {
    const { checks: _checks, ...svc } = s;
    this.local.addService(svc);
    for (const c of s.checks) this.local.addCheck(toLocalCheck({ ...c, serviceId: c.serviceId || s.id }));
  }

  private onReload(defs: Definitions): void {
    for (const c of this.local.sortedChecks()) this.cancelTimer(`check:${c.id}`);
    for (const s of this.local.sortedServices()) if (s.id !== 'consul') this.local.removeService(s.id);
    for (const c of this.local.sortedChecks()) this.local.removeCheck(c.id);
    for (const s of defs.services) this.addServiceDef(s);
    for (const c of defs.checks) this.local.addCheck(toLocalCheck(c));
    for (const c of this.local.sortedChecks()) this.scheduleCheck(c.id, true);
    this.requestSync();
  }

  // ------------------------------------------------------------------ timers

  private onTimer(name: string): void {
    const colon = name.indexOf(':');
    const prefix = colon >= 0 ? name.slice(0, colon) : name;
    const rest = colon >= 0 ? name.slice(colon + 1) : '';
    switch (prefix) {
      case 'lan':
        this.stepLan({ kind: 'timer', name: rest });
        return;
      case 'wan':
        this.stepWan({ kind: 'timer', name: rest });
        return;
      case 'raft':
        this.stepRaft({ kind: 'timer', name: rest });
        return;
      case 'ae':
        this.antiEntropy();
        return;
      case 'check':
        this.runCheck(rest);
        return;
      case 'ttl':
        this.expireTtl(rest);
        return;
      case 'block':
        this.expireParked(Number(rest));
        return;
      case 'rpc':
        this.expireRpc(Number(rest));
        return;
      case 'retryJoin':
        this.joinLan([...this.cfg.startJoin, ...this.cfg.retryJoin], (n, e) => this.onStartJoin(n, e));
        return;
      case 'propose':
        this.flushProposals();
        return;
      case 'leaveRaft':
        this.finishRaftLeave(true);
        return;
      case 'reap':
        this.reapCriticalServices();
        this.timer('reap', this.now + CHECK_REAP_INTERVAL_MS);
        return;
      case 'reconcile':
        if (this.isLeader) this.reconcileAll();
        this.timer('reconcile', this.now + RECONCILE_INTERVAL_MS);
        return;
      case 'session':
        this.expireSession(rest);
        return;
      case 'monitor': {
        const w = this.monitorWaiters.get(Number(rest));
        this.monitorWaiters.delete(Number(rest));
        w?.([]);
        return;
      }
    }
  }

  // ------------------------------------------------------------------ network

  private onReceive(input: ReceiveInput<unknown>): void {
    const { ports } = this.cfg;
    const msg = input.msg;
    if (isRpcMessage(msg)) {
      this.onRpcMessage(input.from, msg);
      return;
    }
    const t = (msg as { t?: unknown } | null)?.t;
    if (typeof t === 'string' && t.startsWith('raft.')) {
      if (this.raft && input.port === ports.server) this.stepRaft(input as never);
      return;
    }
    if (input.port === ports.serfLan) this.stepLan(input as never);
    else if (input.port === ports.serfWan) this.stepWan(input as never);
  }

  private onUnreachable(input: UnreachableInput<unknown>): void {
    const msg = input.msg;
    if (isRpcMessage(msg)) {
      if (msg.t === 'rpc.req') {
        const p = this.pendingRpc.get(msg.id);
        if (p) {
          this.pendingRpc.delete(msg.id);
          this.cancelTimer(`rpc:${msg.id}`);
          p.reply({ ok: false, error: `rpc error: failed to reach server ${p.server}: ${input.reason}` });
        }
      }
      return;
    }
    const t = (msg as { t?: unknown } | null)?.t;
    if (typeof t === 'string' && t.startsWith('raft.')) {
      this.stepRaft(input as never);
      return;
    }
    const port = Number(input.to.slice(input.to.lastIndexOf(':') + 1));
    if (port === this.cfg.ports.serfWan) this.stepWan(input as never);
    else this.stepLan(input as never);
  }

  // ------------------------------------------------------------------ gossip events

  private isServerMember(m: Member): boolean {
    return m.tags.role === 'consul';
  }

  private memberServerAddr(m: Member): string {
    return `${m.addr}:${m.tags.port ?? '8300'}`;
  }

  private onMemberEvent(pool: 'lan' | 'wan', type: string, m: Member): void {
    if (this.isServerMember(m) && m.tags.dc === this.cfg.datacenter) {
      if (type === 'join') {
        this.log('INFO', 'consul', `adding server ${m.name} (Addr: ${this.memberServerAddr(m)}) (DC: ${m.tags.dc})`);
        if (!this.raft && pool === 'lan') this.requestSyncAfter(this.rng.int(1000));
      } else if (type === 'leave' || type === 'failed' || type === 'reap') {
        if (!(type === 'failed' && pool === 'wan'))
          this.log('INFO', 'consul', `removing server ${m.name} (Addr: ${this.memberServerAddr(m)}) (DC: ${m.tags.dc})`);
      }
    }
    if (pool !== 'lan' || !this.raft) return;
    if (type === 'join' && this.isServerMember(m)) this.maybeBootstrap();
    if (this.isLeader) this.reconcileMember(m);
  }

  /** Consul's maybeBootstrap: once `expect` servers of this dc are seen, seed Raft with all of them. */
  private maybeBootstrap(): void {
    if (this.bootstrapExpect <= 0 || !this.raft) return;
    if (this.raft.lastIndex > 0) {
      this.log('INFO', 'consul', 'Raft data found, disabling bootstrap mode');
      this.bootstrapExpect = 0;
      return;
    }
    const servers: string[] = [];
    for (const m of this.lan.members()) {
      if (!this.isServerMember(m) || m.tags.dc !== this.cfg.datacenter || m.status !== 'alive') continue;
      if (m.tags.bootstrap === '1') {
        this.log('ERR', 'consul', `Member ${m.name} has bootstrap mode. Expect disabled.`);
        this.bootstrapExpect = 0;
        return;
      }
      const expect = Number(m.tags.expect ?? '0');
      if (expect !== this.bootstrapExpect) {
        this.log('ERR', 'consul', `Member ${m.name} has a conflicting expect value. All nodes should expect the same number.`);
        return;
      }
      servers.push(this.memberServerAddr(m));
    }
    if (servers.length < this.bootstrapExpect) return;
    // Newest-first, as the walkthrough prints it on both servers.
    servers.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    this.log('INFO', 'consul', `Attempting bootstrap with nodes: [${servers.join(' ')}]`);
    this.bootstrapExpect = 0;
    this.stepRaft({ kind: 'bootstrap', peers: servers });
  }

  private onRaftStateChange(state: string, leaderAddr: string | null): void {
    const wasLeader = this.isLeader;
    this.isLeader = state === 'Leader';
    if (this.isLeader && !wasLeader) {
      this.log('INFO', 'consul', 'cluster leadership acquired');
    } else if (!this.isLeader && wasLeader) {
      this.log('INFO', 'consul', 'cluster leadership lost');
      this.failPendingWrites('leadership lost');
      this.finishRaftLeave(false);
    }
    if (leaderAddr && leaderAddr !== this.lastLeader) {
      this.log('INFO', 'consul', `New leader elected: ${this.nodeNameForServer(leaderAddr)}`);
      // Consul's ServerUp hook: a reachable leader is the moment a failed sync can succeed.
      this.requestSyncAfter(500 + this.rng.int(1000));
    }
    this.lastLeader = leaderAddr;
    if (this.isLeader && !wasLeader) this.establishLeadership();
  }

  private nodeNameForServer(addr: string): string {
    for (const m of this.lan.members()) if (this.memberServerAddr(m) === addr) return m.name;
    return addr;
  }

  private establishLeadership(): void {
    this.reconcileAll();
    // Sessions with a TTL get a fresh timer on a new leader (Consul resets them on failover).
    if (this.fsm) for (const s of this.fsm.sessionList()) this.armSessionTimer(s.ID, s.TTLMs);
  }

  private reconcileAll(): void {
    for (const m of this.lan.members()) this.reconcileMember(m);
    // Nodes in the catalog that gossip no longer knows were reaped: deregister them.
    if (!this.fsm) return;
    const known = new Set(this.lan.members().map((m) => m.name));
    for (const n of this.fsm.nodes()) {
      if (!known.has(n.Node)) {
        this.log('INFO', 'consul', `member '${n.Node}' reaped, deregistering`);
        this.proposeInternal(deregisterNodeCommand(n.Node));
      }
    }
  }

  /** Leader: make the catalog and the Raft peer set agree with one gossip member. */
  private reconcileMember(m: Member): void {
    if (!this.fsm || !this.raft) return;
    if (m.tags.dc !== undefined && m.tags.dc !== this.cfg.datacenter) return;
    const node = this.fsm.node(m.name);
    const serf = this.fsm.nodeChecks(m.name).find((c) => c.CheckID === SERF_HEALTH_CHECK_ID);
    if (m.status === 'alive') {
      if (!node || node.Address !== m.addr || !serf || serf.Status !== 'passing') {
        this.log('INFO', 'consul', `member '${m.name}' joined, marking health alive`);
        this.proposeInternal(registerNodeCommand(m.name, m.addr, this.cfg.datacenter, 'passing', 'Agent alive and reachable'));
      }
      if (this.isServerMember(m)) {
        const addr = this.memberServerAddr(m);
        if (!this.raft.peers.includes(addr)) {
          this.stepRaft({ kind: 'addPeer', addr });
          // Raft takes one change at a time and refuses while one is uncommitted: look again
          // soon rather than at the next full reconcile a minute away.
          this.timer('reconcile', this.now + PEER_RECHECK_MS);
        }
      }
    } else if (m.status === 'failed') {
      if (!serf || serf.Status !== 'critical') {
        this.log('INFO', 'consul', `member '${m.name}' failed, marking health critical`);
        this.proposeInternal(registerNodeCommand(m.name, m.addr, this.cfg.datacenter, 'critical', 'Agent not live or unreachable'));
      }
    } else if (m.status === 'left') {
      if (node) {
        this.log('INFO', 'consul', `member '${m.name}' left, deregistering`);
        this.proposeInternal(deregisterNodeCommand(m.name));
      }
      if (this.isServerMember(m)) {
        const addr = this.memberServerAddr(m);
        if (addr !== this.serverAddr && this.raft.peers.includes(addr)) {
          this.stepRaft({ kind: 'removePeer', addr });
          this.timer('reconcile', this.now + PEER_RECHECK_MS);
        }
      }
    }
  }

  // ------------------------------------------------------------------ raft apply & proposals

  private onApply(index: number, data: Uint8Array): void {
    if (!this.fsm) return;
    const decoded = decodeMessage(data);
    let result: RpcResponse;
    if (!decoded.ok) {
      result = { ok: false, error: `corrupt log entry at ${index}: ${decoded.error.message}` };
    } else {
      const r = this.fsm.apply(index, decoded.msg as Command);
      result = r.ok
        ? { ok: true, meta: this.meta(index), value: r.value }
        : { ok: false, error: r.error, meta: this.meta(index) };
      this.afterApply(decoded.msg as Command, index);
    }
    const cb = this.pendingApply.get(index);
    if (cb) {
      this.pendingApply.delete(index);
      cb(result);
    } else if (this.isLeader) {
      this.applyResults.set(index, result);
      // Only proposals made here are ever claimed; keep the table small regardless.
      if (this.applyResults.size > 4096) this.applyResults.delete(this.applyResults.keys().next().value!);
    }
    this.wakeParked();
  }

  /** Leader bookkeeping after an apply: session TTL timers follow the sessions table. */
  private afterApply(cmd: Command, _index: number): void {
    if (!this.isLeader || !this.fsm) return;
    const op = (cmd as { op?: string }).op;
    if (op === 'sessionCreate') {
      const s = (cmd as { session?: { ID: string } }).session;
      const sess = s ? this.fsm.sessionGet(s.ID) : undefined;
      if (sess) this.armSessionTimer(sess.ID, sess.TTLMs);
    }
  }

  private proposeInternal(cmd: Command): void {
    this.propose(cmd, (r) => {
      if (!r.ok) this.log('WARN', 'consul', `failed to apply catalog update: ${r.error}`);
    });
  }

  /**
   * Queue a catalog command for Raft. Proposals that arrive before the 'propose' timer fires
   * (the same virtual instant in sim; the same event-loop turn in real mode) go to Raft as one
   * batch: one log write and one fsync for all of them.
   */
  private propose(cmd: Command, reply: (r: RpcResponse) => void): void {
    if (!this.raft) {
      reply({ ok: false, error: ERR_NO_LEADER });
      return;
    }
    const reqId = this.id();
    this.pendingPropose.set(reqId, reply);
    if (this.proposalQueue.length === 0) this.timer('propose', this.now);
    this.proposalQueue.push({ reqId, data: encodeMessage(cmd) });
  }

  private flushProposals(): void {
    const items = this.proposalQueue;
    this.proposalQueue = [];
    if (items.length > 0) this.stepRaft({ kind: 'proposeBatch', items });
  }

  private failPendingWrites(reason: string): void {
    const cbs = [...this.pendingApply.values()];
    this.pendingApply.clear();
    for (const cb of cbs) cb({ ok: false, error: reason });
  }

  // ------------------------------------------------------------------ sessions (leader)

  private armSessionTimer(id: string, ttlMs: number): void {
    if (ttlMs <= 0) return;
    // Consul expires a session after 2×TTL without renewal.
    this.timer(`session:${id}`, this.now + 2 * ttlMs);
  }

  private expireSession(id: string): void {
    if (!this.isLeader || !this.fsm?.sessionGet(id)) return;
    this.proposeInternal({ op: 'sessionInvalidate', id } as unknown as Command);
  }

  // ------------------------------------------------------------------ RPC: client side

  private meta(index: number): QueryMeta {
    return {
      index: Math.max(1, index),
      knownLeader: this.knownLeader(),
      lastContactMs: this.lastContactMs(),
    };
  }

  private knownLeader(): boolean {
    return this.raft ? this.raft.leader !== null : this.pickServer() !== null;
  }

  private lastContactMs(): number {
    if (!this.raft) return 0;
    if (this.isLeader) return 0;
    const s = this.raft.stats(this.now).last_contact ?? 'never';
    return s === 'never' ? 0 : Math.round(parseGoDuration(s) ?? 0);
  }

  private pickServer(): string | null {
    const servers = this.lan
      .members()
      .filter((m) => this.isServerMember(m) && m.status === 'alive' && m.tags.dc === this.cfg.datacenter)
      .map((m) => this.memberServerAddr(m));
    if (servers.length === 0) return null;
    return servers[this.rng.int(servers.length)]!;
  }

  /** Execute an RPC here (server) or forward it to a server (client). */
  rpc(req: AgentRpcRequest, reply: (r: RpcResponse) => void, hops = 0): void {
    if (this.raft) {
      this.serveRpc(req, reply, hops);
      return;
    }
    const server = this.pickServer();
    if (!server) {
      reply({ ok: false, error: ERR_NO_SERVERS });
      return;
    }
    this.forward(server, req, reply, hops, this.cfg.ports.serfLan);
  }

  private forward(server: string, req: AgentRpcRequest, reply: (r: RpcResponse) => void, hops: number, fromPort: number): void {
    const id = this.id();
    this.pendingRpc.set(id, { reply, server });
    const wait = req.type === 'read' ? req.maxWaitMs : 0;
    this.timer(`rpc:${id}`, this.now + wait + RPC_TIMEOUT_SLACK_MS);
    const msg: AgentRpcMessage = { t: 'rpc.req', id, replyPort: fromPort, hops: hops + 1, req };
    this.out.push({ kind: 'send', fromPort, to: server, via: 'tcp', msg });
  }

  private expireRpc(id: number): void {
    const p = this.pendingRpc.get(id);
    if (!p) return;
    this.pendingRpc.delete(id);
    p.reply({ ok: false, error: `rpc error: timeout waiting for ${p.server}` });
  }

  private onRpcMessage(from: string, msg: AgentRpcMessage): void {
    if (msg.t === 'rpc.res') {
      const p = this.pendingRpc.get(msg.id);
      if (!p) return;
      this.pendingRpc.delete(msg.id);
      this.cancelTimer(`rpc:${msg.id}`);
      p.reply(msg.res);
      return;
    }
    if (!this.raft) return; // clients do not serve RPC
    const ip = from.slice(0, from.lastIndexOf(':'));
    const replyTo = `${ip}:${msg.replyPort}`;
    const port = this.cfg.ports.server;
    this.serveRpc(
      msg.req,
      (res) => {
        this.out.push({ kind: 'send', fromPort: port, to: replyTo, via: 'tcp', msg: { t: 'rpc.res', id: msg.id, res } });
      },
      msg.hops,
    );
  }

  // ------------------------------------------------------------------ RPC: server side

  private leaderAddr(): string | null {
    return this.raft?.leader ?? null;
  }

  private forwardToLeader(req: AgentRpcRequest, reply: (r: RpcResponse) => void, hops: number): void {
    const leader = this.leaderAddr();
    if (!leader || hops >= 2) {
      reply({ ok: false, error: ERR_NO_LEADER });
      return;
    }
    this.forward(leader, req, reply, hops, this.cfg.ports.server);
  }

  private serveRpc(req: AgentRpcRequest, reply: (r: RpcResponse) => void, hops: number): void {
    const raft = this.raft!;
    switch (req.type) {
      case 'dns': {
        const bytes = this.answerDnsLocally(req.bytes, req.transport);
        reply({ ok: true, meta: this.meta(this.fsm?.lastIndex() ?? 0), value: bytes });
        return;
      }
      case 'sessionRenew': {
        if (!this.isLeader) {
          this.forwardToLeader(req, reply, hops);
          return;
        }
        const sess = this.fsm?.sessionGet(req.id);
        if (!sess) {
          reply({ ok: true, meta: this.meta(this.fsm?.lastIndex() ?? 0), value: null });
          return;
        }
        this.armSessionTimer(sess.ID, sess.TTLMs);
        reply({ ok: true, meta: this.meta(this.fsm!.lastIndex()), value: sess });
        return;
      }
      case 'statusLeader':
        reply({ ok: true, meta: this.meta(0), value: this.leaderAddr() ?? '' });
        return;
      case 'statusPeers':
        reply({ ok: true, meta: this.meta(0), value: [...raft.peers] });
        return;
      case 'raftConfiguration': {
        if (req.consistency !== 'stale' && !this.isLeader) {
          this.forwardToLeader(req, reply, hops);
          return;
        }
        const leader = this.leaderAddr();
        const servers = [...raft.peers].sort().map((addr) => ({
          ID: addr,
          Node: this.nodeNameForServer(addr),
          Address: addr,
          Leader: addr === leader,
          Voter: true,
        }));
        reply({ ok: true, meta: this.meta(raft.commitIndex), value: { Servers: servers, Index: raft.commitIndex } });
        return;
      }
      case 'raftRemovePeer': {
        if (!this.isLeader) {
          this.forwardToLeader(req, reply, hops);
          return;
        }
        if (!raft.peers.includes(req.address)) {
          reply({ ok: false, error: `address "${req.address}" was not found in the Raft configuration` });
          return;
        }
        this.stepRaft({ kind: 'removePeer', addr: req.address });
        reply({ ok: true, meta: this.meta(raft.commitIndex), value: null });
        return;
      }
      case 'write': {
        if (!this.isLeader) {
          this.forwardToLeader(req, reply, hops);
          return;
        }
        if (this.bugs.lostAck) {
          this.propose(req.command as Command, () => {});
          reply({ ok: true, meta: this.meta(this.raft!.lastIndex), value: true });
          return;
        }
        this.propose(req.command as Command, reply);
        return;
      }
      case 'read':
        this.serveRead(req, reply, hops);
        return;
    }
  }

  private serveRead(req: ReadRequest, reply: (r: RpcResponse) => void, hops: number): void {
    if (req.consistency === 'stale' || (this.bugs.staleRead && req.consistency === 'default')) {
      this.runRead(req, reply);
      return;
    }
    if (!this.isLeader) {
      this.forwardToLeader(req, reply, hops);
      return;
    }
    const reqId = this.id();
    this.pendingReads.set(reqId, () => this.runRead(req, reply));
    this.readFailures.set(reqId, reply);
    this.stepRaft({ kind: 'read', reqId, mode: req.consistency === 'consistent' ? 'readIndex' : 'lease' });
  }

  private readonly readFailures = new Map<number, (r: RpcResponse) => void>();

  private failRead(reqId: number, error: string): void {
    const cb = this.readFailures.get(reqId);
    this.readFailures.delete(reqId);
    cb?.({ ok: false, error });
  }

  /** Evaluate now, or park until the index moves past minIndex (blocking query). */
  private runRead(req: ReadRequest, reply: (r: RpcResponse) => void): void {
    if (!this.fsm) {
      reply({ ok: false, error: ERR_NO_LEADER });
      return;
    }
    const r = executeQuery(this.fsm, req.query);
    if (req.minIndex > 0 && r.index <= req.minIndex && req.maxWaitMs > 0) {
      const id = this.id();
      this.parked.set(id, { id, req, reply });
      this.timer(`block:${id}`, this.now + req.maxWaitMs);
      return;
    }
    reply({ ok: true, meta: this.meta(r.index), value: r.value });
  }

  private wakeParked(): void {
    if (!this.fsm || this.parked.size === 0) return;
    for (const p of [...this.parked.values()]) {
      const r = executeQuery(this.fsm, p.req.query);
      if (r.index > p.req.minIndex) {
        this.parked.delete(p.id);
        this.cancelTimer(`block:${p.id}`);
        p.reply({ ok: true, meta: this.meta(r.index), value: r.value });
      }
    }
  }

  private expireParked(id: number): void {
    const p = this.parked.get(id);
    if (!p || !this.fsm) return;
    this.parked.delete(id);
    const r = executeQuery(this.fsm, p.req.query);
    p.reply({ ok: true, meta: this.meta(r.index), value: r.value });
  }

  // ------------------------------------------------------------------ anti-entropy

  private requestSync(): void {
    this.requestSyncAfter(0);
  }

  /** Sync soon; a change made while a sync is running gets its own pass right after it. */
  private requestSyncAfter(delayMs: number): void {
    if (this.aeRunning) this.syncAgain = true;
    else this.timer('ae', this.now + delayMs);
  }

  /** Full sync: read what the catalog holds for this node, then repair both directions. */
  private antiEntropy(): void {
    if (this.phase !== 'running') return;
    if (this.aeRunning) return;
    this.aeRunning = true;
    const read: ReadRequest = {
      type: 'read',
      query: { q: 'healthNode', node: this.cfg.nodeName },
      consistency: 'default',
      minIndex: 0,
      maxWaitMs: 0,
    };
    const readServices: ReadRequest = { ...read, query: { q: 'catalogNode', node: this.cfg.nodeName } };
    this.rpc(readServices, (svcRes) => {
      if (!svcRes.ok) return this.syncFailed(svcRes.error);
      this.rpc(read, (chkRes) => {
        if (!chkRes.ok) return this.syncFailed(chkRes.error);
        this.syncWith(svcRes.value, chkRes.value);
      });
    });
  }

  private syncFailed(error: string): void {
    this.aeRunning = false;
    this.log('ERR', 'agent', `failed to sync remote state: ${error}`);
    this.timer('ae', this.now + AE_RETRY_MS + this.rng.int(5000));
  }

  private syncWith(nodeValue: unknown, checksValue: unknown): void {
    const remoteServices = new Map<string, { Service: string; Tags: string[] | null; Port: number; Address: string }>();
    const nv = nodeValue as { Services?: Record<string, { ID: string; Service: string; Tags: string[] | null; Port: number; Address: string }> } | null;
    for (const s of Object.values(nv?.Services ?? {})) remoteServices.set(s.ID, s);
    const remoteChecks = new Map<string, { Status: string; Output: string; ServiceID: string; Name: string }>();
    for (const c of (checksValue as { CheckID: string; Status: string; Output: string; ServiceID: string; Name: string }[] | null) ?? []) {
      remoteChecks.set(c.CheckID, c);
    }
    const writes: { cmd: Command; onOk: () => void }[] = [];
    // Remote entries the agent does not own are removed (serfHealth belongs to the leader).
    for (const id of [...remoteServices.keys()].sort()) {
      if (!this.local.services.has(id)) {
        writes.push({
          cmd: deregisterServiceCommand(this.cfg.nodeName, id),
          onOk: () => this.log('INFO', 'agent', `Deregistered service '${id}'`),
        });
      }
    }
    for (const id of [...remoteChecks.keys()].sort()) {
      if (id === SERF_HEALTH_CHECK_ID) continue;
      if (!this.local.checks.has(id)) {
        writes.push({
          cmd: deregisterCheckCommand(this.cfg.nodeName, id),
          onOk: () => this.log('INFO', 'agent', `Deregistered check '${id}'`),
        });
      }
    }
    for (const s of this.local.sortedServices()) {
      const r = remoteServices.get(s.id);
      const same = r && r.Service === s.name && r.Port === s.port && r.Address === s.address && sameTags(r.Tags, s.tags);
      if (same && this.local.serviceInSync(s.id)) continue;
      if (same) {
        this.local.markServiceSynced(s.id);
        continue;
      }
      writes.push({
        cmd: registerNodeCommand(this.cfg.nodeName, this.cfg.advertiseAddr, this.cfg.datacenter, null, '', s),
        onOk: () => {
          this.local.markServiceSynced(s.id);
          this.log('INFO', 'agent', `Synced service '${s.id}'`);
        },
      });
    }
    for (const c of this.local.sortedChecks()) {
      const r = remoteChecks.get(c.id);
      const same = r && r.Status === c.status && r.Output === c.output && r.ServiceID === c.serviceId;
      if (same) {
        this.local.markCheckSynced(c.id);
        continue;
      }
      if (r && this.local.checkInSync(c.id) && r.Status === c.status) continue; // output change deferred
      const svc = c.serviceId ? this.local.services.get(c.serviceId) : undefined;
      writes.push({
        cmd: registerNodeCommand(this.cfg.nodeName, this.cfg.advertiseAddr, this.cfg.datacenter, null, '', svc, c),
        onOk: () => {
          this.local.markCheckSynced(c.id);
          this.log('INFO', 'agent', `Synced check '${c.id}'`);
        },
      });
    }
    this.runWrites(writes, 0);
  }

  private runWrites(writes: { cmd: Command; onOk: () => void }[], i: number): void {
    if (i >= writes.length) {
      this.aeRunning = false;
      const again = this.syncAgain;
      this.syncAgain = false;
      this.timer('ae', again ? this.now : this.now + AE_INTERVAL_MS + this.rng.int(AE_INTERVAL_MS / 4));
      return;
    }
    const w = writes[i]!;
    this.rpc({ type: 'write', command: w.cmd }, (r) => {
      if (!r.ok) return this.syncFailed(r.error);
      w.onOk();
      this.runWrites(writes, i + 1);
    });
  }

  /** A check changed status: push it to the catalog now rather than at the next full sync. */
  private syncCheckSoon(): void {
    this.requestSyncAfter(1);
  }

  // ------------------------------------------------------------------ checks

  private scheduleCheck(id: string, initial: boolean): void {
    const c = this.local.checks.get(id);
    if (!c) return;
    if (c.spec && c.intervalMs > 0) {
      const delay = initial ? this.rng.int(Math.max(1, c.intervalMs)) : c.intervalMs;
      this.timer(`check:${id}`, this.now + delay);
    } else if (c.ttlMs > 0) {
      this.timer(`ttl:${id}`, this.now + c.ttlMs);
    }
  }

  private runCheck(id: string): void {
    const c = this.local.checks.get(id);
    if (!c || !c.spec || this.phase !== 'running') return;
    const gen = (this.checkGen.get(id) ?? 0) + 1;
    this.checkGen.set(id, gen);
    this.out.push({ kind: 'probe', checkId: id, gen, spec: c.spec });
    this.timer(`check:${id}`, this.now + c.intervalMs);
  }

  private onProbeResult(id: string, gen: number, result: ProbeResult): void {
    const c = this.local.checks.get(id);
    if (!c || this.checkGen.get(id) !== gen) return;
    if (result.status !== 'passing' && c.spec) {
      if (c.spec.type === 'http') this.log('WARN', 'agent', `http request failed '${c.spec.url}' : ${result.output}`);
      else if (c.spec.type === 'tcp') this.log('WARN', 'agent', `socket connection failed '${c.spec.addr}': ${result.output}`);
      else this.log('WARN', 'agent', `Check '${id}' is now ${result.status}`);
    }
    this.setCheckStatus(id, result.status, result.output);
  }

  private setCheckStatus(id: string, status: HealthStatus, output: string): void {
    const changed = this.local.updateCheck(id, status, output, this.now);
    if (changed) this.log('DEBUG', 'agent', `Check '${id}' is now ${status}`);
    if (!this.local.checkInSync(id)) this.syncCheckSoon();
  }

  /** deregister_critical_service_after: a service whose check stayed critical too long goes. */
  private reapCriticalServices(): void {
    for (const c of this.local.sortedChecks()) {
      if (!c.serviceId || c.deregisterCriticalAfterMs <= 0 || c.status !== 'critical' || c.criticalSinceMs == null) continue;
      const after = Math.max(c.deregisterCriticalAfterMs, CHECK_DEREGISTER_MIN_MS);
      if (this.now - c.criticalSinceMs < after || !this.local.services.has(c.serviceId)) continue;
      this.log('WARN', 'agent', `Check '${c.id}' for service '${c.serviceId}' has been critical for too long; deregistered service`);
      for (const other of this.local.sortedChecks()) {
        if (other.serviceId === c.serviceId) {
          this.cancelTimer(`check:${other.id}`);
          this.cancelTimer(`ttl:${other.id}`);
        }
      }
      this.local.removeService(c.serviceId);
      this.requestSync();
    }
  }

  private expireTtl(id: string): void {
    const c = this.local.checks.get(id);
    if (!c) return;
    this.log('WARN', 'agent', `Check '${id}' missed TTL, is now critical`);
    this.setCheckStatus(id, 'critical', 'TTL expired');
  }

  // ------------------------------------------------------------------ joins

  private joinLan(addrs: string[], done: (contacted: number, errors: string[]) => void): void {
    this.log('INFO', 'agent', `(LAN) joining: [${addrs.join(' ')}]`);
    const reqId = this.id();
    this.joinWaiters.set(reqId, (n, errs) => {
      this.log('INFO', 'agent', `(LAN) joined: ${n} Err: ${errs.length ? errs.join('; ') : ''}`.trimEnd());
      done(n, errs);
    });
    this.stepLan({ kind: 'join', reqId, addrs });
  }

  private joinWan(addrs: string[], done: (contacted: number, errors: string[]) => void): void {
    if (!this.wan) {
      done(0, ['WAN join is only possible on servers']);
      return;
    }
    this.log('INFO', 'agent', `(WAN) joining: [${addrs.join(' ')}]`);
    const reqId = this.id();
    this.joinWaiters.set(reqId, (n, errs) => {
      this.log('INFO', 'agent', `(WAN) joined: ${n} Err: ${errs.length ? errs.join('; ') : ''}`.trimEnd());
      done(n, errs);
    });
    this.stepWan({ kind: 'join', reqId, addrs });
  }

  // ------------------------------------------------------------------ DNS

  private resolveDns(bytes: Uint8Array, transport: 'udp' | 'tcp', view: CatalogFSM, config: DnsConfig, withLogs: boolean): DnsOutcome {
    return resolveQuery(bytes, {
      view,
      config,
      rng: this.rng,
      transport,
      datacenter: this.cfg.datacenter,
      nodeName: this.cfg.nodeName,
      nowMs: this.now,
      cache: withLogs ? this.dnsCache : undefined,
      onLog: withLogs ? (line) => this.log(line.level, line.source, line.text) : undefined,
    });
  }

  /** A query a client forwarded by RPC; names outside the domain are refused, not recursed again. */
  private answerDnsLocally(bytes: Uint8Array, transport: 'udp' | 'tcp'): Uint8Array | null {
    if (!this.fsm) return null;
    const outcome = this.resolveDns(bytes, transport, this.fsm, this.dnsRpcConfig, true);
    return outcome.kind === 'reply' ? outcome.bytes : null;
  }

  private emitDnsOutcome(reqId: number, outcome: DnsOutcome): void {
    if (outcome.kind === 'forward') {
      this.out.push({ kind: 'dnsForward', reqId, recursors: outcome.recursors, request: outcome.request, timeoutMs: this.cfg.recursorTimeoutMs });
    } else this.out.push({ kind: 'dnsResponse', reqId, bytes: outcome.kind === 'reply' ? outcome.bytes : null });
  }

  private onDns(reqId: number, bytes: Uint8Array, transport: 'udp' | 'tcp'): void {
    if (this.fsm) {
      this.emitDnsOutcome(reqId, this.resolveDns(bytes, transport, this.fsm, this.dnsConfig, true));
      return;
    }
    // A client recurses itself (its own recursors), and asks a server only about the domain.
    const recursion = this.dnsConfig.recursors.length > 0;
    if (recursion) {
      this.emptyView ??= new CatalogFSM();
      const outcome = this.resolveDns(bytes, transport, this.emptyView, this.dnsConfig, false);
      if (outcome.kind === 'forward') {
        this.emitDnsOutcome(reqId, outcome);
        return;
      }
    }
    this.rpc({ type: 'dns', bytes, transport }, (r) => {
      let answer = r.ok ? (r.value as Uint8Array | null) : null;
      // The server answered without recursors; "recursion available" is this agent's to say.
      if (answer && recursion && answer.length >= 12 && (answer[2]! & 0x80) !== 0) {
        answer = answer.slice();
        answer[3]! |= 0x80;
      }
      this.out.push({ kind: 'dnsResponse', reqId, bytes: answer });
    });
  }

  // ------------------------------------------------------------------ HTTP

  private onHttp(reqId: number, req: HttpRequest): void {
    const respond = (res: HttpResponse): void => {
      this.out.push({ kind: 'httpResponse', reqId, res });
    };
    let outcome;
    try {
      outcome = handleHttp(req, this.apiContext());
    } catch (err) {
      respond({ status: 500, headers: { 'Content-Type': 'text/plain' }, body: `internal error: ${(err as Error).message}` });
      return;
    }
    switch (outcome.kind) {
      case 'respond':
        respond(outcome.res);
        return;
      case 'rpc':
        this.rpc(outcome.request as AgentRpcRequest, (r) => respond(outcome.then(r)));
        return;
      case 'agent':
        this.agentOp(outcome.op, (r) => respond(outcome.then(r)));
        return;
    }
  }

  apiContext(): ApiContext {
    return {
      nowMs: this.now,
      rng: this.rng,
      datacenter: this.cfg.datacenter,
      nodeName: this.cfg.nodeName,
      self: () => this.selfInfo(),
      membersLan: () => this.lan.members(),
      membersWan: () => this.wan?.members() ?? [],
      localServices: () =>
        this.local.sortedServices().map((s) => ({
          ID: s.id,
          Service: s.name,
          Tags: s.tags,
          Meta: s.meta,
          Port: s.port,
          Address: s.address,
          EnableTagOverride: s.enableTagOverride,
          Weights: { Passing: s.weights.passing, Warning: s.weights.warning },
        })),
      localChecks: () =>
        this.local.sortedChecks().map((c) => {
          const svc = c.serviceId ? this.local.services.get(c.serviceId) : undefined;
          return {
            Node: this.cfg.nodeName,
            CheckID: c.id,
            Name: c.name,
            Status: c.status,
            Notes: c.notes,
            Output: c.output,
            ServiceID: c.serviceId,
            ServiceName: svc?.name ?? '',
            ServiceTags: svc?.tags ?? [],
            Type: c.type,
          };
        }),
      logsAfter: (afterSeq: number) => this.logsAfter(afterSeq),
    };
  }

  selfInfo(): AgentSelf {
    return {
      Config: {
        Bootstrap: this.cfg.bootstrap,
        BootstrapExpect: this.cfg.bootstrapExpect,
        Server: this.cfg.server,
        Datacenter: this.cfg.datacenter,
        DataDir: this.cfg.dataDir,
        NodeName: this.cfg.nodeName,
        ClientAddr: this.cfg.clientAddr,
        BindAddr: this.cfg.bindAddr,
        AdvertiseAddr: this.cfg.advertiseAddr,
        Domain: this.cfg.domain,
        LogLevel: this.cfg.logLevel,
        Ports: {
          DNS: this.cfg.ports.dns,
          HTTP: this.cfg.ports.http,
          HTTPS: this.cfg.ports.https,
          RPC: this.cfg.ports.rpc,
          SerfLan: this.cfg.ports.serfLan,
          SerfWan: this.cfg.ports.serfWan,
          Server: this.cfg.ports.server,
        },
        RejoinAfterLeave: this.cfg.rejoinAfterLeave,
        StartJoin: this.cfg.startJoin,
        SessionTTLMin: 10_000_000_000,
        Version: BUILD_VERSION,
        Revision: BUILD_TAG.split(':')[1],
      },
      Member: this.lan.localMember(),
      Stats: this.stats(),
    } as AgentSelf;
  }

  stats(): Record<string, Record<string, string>> {
    return buildAgentStats({
      cfg: this.cfg,
      local: this.local,
      raft: this.raft,
      raftStats: this.raft ? this.raft.stats(this.now) : null,
      lan: { ...this.lan.stats(), encrypted: String(this.gossipEncrypted.lan) },
      wan: this.wan ? { ...this.wan.stats(), encrypted: String(this.gossipEncrypted.wan) } : null,
      isLeader: this.isLeader,
      knownServers: this.lan.members().filter((m) => this.isServerMember(m) && m.status === 'alive').length,
      runtime: this.runtime,
      version: BUILD_VERSION,
      revision: BUILD_TAG.split(':')[1]!,
    });
  }

  private agentOp(op: AgentOp, reply: (r: AgentOpResult) => void): void {
    if (op.op === 'serviceRegister') {
      const def = op.def;
      this.local.removeService(def.id);
      this.addServiceDef(def);
      for (const c of this.local.sortedChecks()) if (c.serviceId === def.id) this.scheduleCheck(c.id, true);
      this.requestSync();
      reply({ ok: true });
      return;
    }
    if (op.op === 'checkRegister') {
      const def = op.def;
      if (def.serviceId && !this.local.services.has(def.serviceId)) {
        reply({ ok: false, status: 500, error: `ServiceID "${def.serviceId}" does not exist` });
        return;
      }
      this.cancelTimer(`check:${def.id}`);
      this.cancelTimer(`ttl:${def.id}`);
      this.local.addCheck(toLocalCheck(def));
      this.scheduleCheck(def.id, true);
      this.requestSync();
      reply({ ok: true });
      return;
    }
    if (op.op === 'monitor') {
      const lines = this.logsAfter(op.afterSeq);
      if (lines.length > 0 || op.maxWaitMs <= 0) {
        reply({ ok: true, value: lines });
        return;
      }
      const id = this.id();
      this.monitorWaiters.set(id, (l) => reply({ ok: true, value: l }));
      this.timer(`monitor:${id}`, this.now + op.maxWaitMs);
      return;
    }
    const o = op as { op: string } & Record<string, unknown>;
    switch (o.op) {
      case 'join': {
        const addrs = o.addrs as string[];
        const done = (n: number, errs: string[]): void =>
          reply(n > 0 ? { ok: true, value: n } : { ok: false, error: errs.join('\n') || 'Failed to join any nodes.' });
        if (o.wan) this.joinWan(addrs, done);
        else this.joinLan(addrs, done);
        return;
      }
      case 'leave':
        if (this.phase !== 'running') {
          reply({ ok: false, error: 'agent is already leaving' });
          return;
        }
        // Consul 0.5's CLI reached the agent over its RPC port, hence 'agent.rpc'; Muster's
        // CLI-facing entry point is the HTTP API, which plays the same role.
        this.log('INFO', 'agent.rpc', 'Graceful leave triggered');
        this.gracefulLeave(() => {
          reply({ ok: true });
          this.shutdown(0);
        });
        return;
      case 'forceLeave':
        this.stepLan({ kind: 'forceLeave', node: o.node as string });
        this.stepWan({ kind: 'forceLeave', node: `${o.node as string}.${this.cfg.datacenter}` });
        reply({ ok: true });
        return;
      case 'reload':
        // The process layer re-reads -config-dir/-config-file (as for SIGHUP) and steps 'reload'.
        this.log('INFO', 'agent', 'Reloading configuration...');
        this.out.push({ kind: 'reloadConfig' });
        reply({ ok: true });
        return;
      case 'serviceDeregister': {
        const id = o.id as string;
        if (!this.local.removeService(id)) {
          reply({ ok: false, status: 404, error: `Unknown service '${id}'` });
          return;
        }
        this.requestSync();
        reply({ ok: true });
        return;
      }
      case 'checkDeregister': {
        const id = o.id as string;
        this.cancelTimer(`check:${id}`);
        this.cancelTimer(`ttl:${id}`);
        if (!this.local.removeCheck(id)) {
          reply({ ok: false, status: 404, error: `Unknown check '${id}'` });
          return;
        }
        this.requestSync();
        reply({ ok: true });
        return;
      }
      case 'checkUpdate': {
        const id = o.id as string;
        const c = this.local.checks.get(id);
        if (!c || c.ttlMs <= 0) {
          reply({ ok: false, status: 500, error: `CheckID "${id}" does not have associated TTL` });
          return;
        }
        this.setCheckStatus(id, o.status as HealthStatus, String(o.output ?? ''));
        this.timer(`ttl:${id}`, this.now + c.ttlMs);
        reply({ ok: true });
        return;
      }
      case 'nodeMaintenance':
      case 'serviceMaintenance': {
        const enable = Boolean(o.enable);
        const id = o.op === 'nodeMaintenance' ? '_node_maintenance' : `_service_maintenance:${o.id as string}`;
        if (o.op === 'serviceMaintenance' && !this.local.services.has(o.id as string)) {
          reply({ ok: false, status: 404, error: `No service registered with ID "${o.id as string}"` });
          return;
        }
        if (enable) {
          const check = toLocalCheck(
            agentOwnedCheck(
              id,
              o.op === 'nodeMaintenance' ? 'Node Maintenance Mode' : 'Service Maintenance Mode',
              String(o.reason || 'Maintenance mode is enabled for this node, but no reason was provided.'),
              o.op === 'serviceMaintenance' ? (o.id as string) : '',
            ),
          );
          this.local.addCheck(check);
        } else this.local.removeCheck(id);
        this.requestSync();
        reply({ ok: true });
        return;
      }
      default:
        reply({ ok: false, status: 400, error: `unsupported agent operation '${o.op}'` });
    }
  }
}

function sameTags(a: string[] | null, b: string[]): boolean {
  const x = a ?? [];
  if (x.length !== b.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== b[i]) return false;
  return true;
}
