// core/agent/local-state.ts — the services and checks this agent owns, and their sync state.
//
// Owns: the agent's local view (what it was told to run), each check's current status and
// output, and which entries still have to reach the catalog (anti-entropy bookkeeping).
// Must never: talk to the network or schedule anything; core/agent/agent.ts drives it.
//
// Anti-entropy as Consul does it: a change marks the entry out of sync and asks for a sync
// soon; a full sync (every minute) reads what the catalog holds for this node and repairs
// both directions. A status change syncs at once; an output-only change at most every
// checkUpdateIntervalMs, so chatty checks do not flood the Raft log.
import type { HealthStatus } from '../catalog/types.ts';
import type { CheckSpec } from '../runtime/ports.ts';
import type { ServiceDefinition } from './definitions.ts';

/** A service this agent owns: its definition without the embedded checks (those live in `checks`). */
export type LocalService = Omit<ServiceDefinition, 'checks'>;

export interface LocalCheck {
  id: string;
  name: string;
  notes: string;
  serviceId: string;
  /** How the agent runs it; null for TTL checks (updated over HTTP). */
  spec: CheckSpec | null;
  intervalMs: number;
  ttlMs: number;
  /** Display form for the catalog's Type field: 'http', 'tcp', 'ttl', 'script'. */
  type: string;
  deregisterCriticalAfterMs: number;
  status: HealthStatus;
  output: string;
  /** When the check last turned critical (for deregister_critical_service_after); null if not critical. */
  criticalSinceMs?: number | null;
}

interface SyncMark {
  inSync: boolean;
  /** Last status that reached the catalog (to tell a status change from an output change). */
  syncedStatus?: HealthStatus;
  syncedOutput?: string;
  /** Earliest time an output-only change may be synced. */
  deferUntilMs?: number;
}

export class LocalState {
  readonly services = new Map<string, LocalService>();
  readonly checks = new Map<string, LocalCheck>();
  private readonly serviceSync = new Map<string, SyncMark>();
  private readonly checkSync = new Map<string, SyncMark>();

  constructor(private readonly checkUpdateIntervalMs: number) {}

  addService(svc: LocalService): void {
    this.services.set(svc.id, svc);
    this.serviceSync.set(svc.id, { inSync: false });
  }

  removeService(id: string): boolean {
    const had = this.services.delete(id);
    this.serviceSync.delete(id);
    for (const c of [...this.checks.values()]) if (c.serviceId === id) this.removeCheck(c.id);
    return had;
  }

  addCheck(check: LocalCheck): void {
    this.checks.set(check.id, check);
    this.checkSync.set(check.id, { inSync: false });
  }

  removeCheck(id: string): boolean {
    this.checkSync.delete(id);
    return this.checks.delete(id);
  }

  /** Record a probe/TTL result; returns true when the status changed. */
  updateCheck(id: string, status: HealthStatus, output: string, nowMs: number): boolean {
    const c = this.checks.get(id);
    if (!c) return false;
    const statusChanged = c.status !== status;
    if (status === 'critical' && (c.status !== 'critical' || c.criticalSinceMs == null)) c.criticalSinceMs = nowMs;
    if (status !== 'critical') c.criticalSinceMs = null;
    c.status = status;
    c.output = output;
    const mark = this.checkSync.get(id)!;
    if (mark.syncedStatus !== status) {
      mark.inSync = false;
    } else if (mark.syncedOutput !== output) {
      // Output-only change: defer so a flapping output does not write to Raft every interval.
      if (mark.deferUntilMs === undefined) mark.deferUntilMs = nowMs + this.checkUpdateIntervalMs;
      if (nowMs >= mark.deferUntilMs) mark.inSync = false;
    }
    return statusChanged;
  }

  sortedServices(): LocalService[] {
    return [...this.services.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  sortedChecks(): LocalCheck[] {
    return [...this.checks.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  serviceInSync(id: string): boolean {
    return this.serviceSync.get(id)?.inSync ?? false;
  }

  checkInSync(id: string): boolean {
    return this.checkSync.get(id)?.inSync ?? false;
  }

  markServiceSynced(id: string): void {
    const m = this.serviceSync.get(id);
    if (m) m.inSync = true;
  }

  markCheckSynced(id: string): void {
    const m = this.checkSync.get(id);
    const c = this.checks.get(id);
    if (m && c) {
      m.inSync = true;
      m.syncedStatus = c.status;
      m.syncedOutput = c.output;
      m.deferUntilMs = undefined;
    }
  }

  markServiceOutOfSync(id: string): void {
    const m = this.serviceSync.get(id);
    if (m) m.inSync = false;
  }

  markCheckOutOfSync(id: string): void {
    const m = this.checkSync.get(id);
    if (m) m.inSync = false;
  }

  /** Earliest deferred output sync, for scheduling. */
  nextDeferredMs(): number | undefined {
    let best: number | undefined;
    for (const m of this.checkSync.values()) {
      if (m.inSync && m.deferUntilMs !== undefined && (best === undefined || m.deferUntilMs < best)) best = m.deferUntilMs;
    }
    return best;
  }

  releaseDeferred(nowMs: number): void {
    for (const m of this.checkSync.values()) {
      if (m.deferUntilMs !== undefined && nowMs >= m.deferUntilMs) m.inSync = false;
    }
  }

  everythingInSync(): boolean {
    for (const m of this.serviceSync.values()) if (!m.inSync) return false;
    for (const m of this.checkSync.values()) if (!m.inSync) return false;
    return true;
  }
}
