// cli/tui/scenario-driver.ts — `muster tui --scenario FILE`: a scenario replayed under the UI's clock.
//
// Owns: a simulator scenario backend whose waits (sleep, wait-for-log) are served by the UI's
// frames instead of running to completion at once, so the replay can be paused, stepped,
// sped up and disturbed; keeping the agent handles the observer reads; the scenario's
// progress line; free-running the world after the last step.
// Must never: change what a step does or how output is matched (sim/scenario owns that).
// Without UI actions, time advances exactly as in `muster scenario run` (every wait stops at
// the same event), so the trace hash matches a plain run with the same seed.
import { readFileSync } from 'node:fs';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { ScenarioEngine, type RunResult } from '../../sim/scenario/engine.ts';
import { SimScenarioBackend } from '../../sim/scenario/sim-backend.ts';
import { StepError } from '../../sim/scenario/backend.ts';
import { resolvePath, rewriteAgentArgs } from '../../sim/scenario/args.ts';
import { spawnAgent, type SimAgent } from '../../sim/cluster/agents.ts';
import type { SimHost, SimProcess } from '../../sim/world.ts';
import { SimObserver } from '../../sim/tui-model.ts';
import { simCli } from '../commands/scenario.ts';

interface PendingWait {
  pred: () => boolean;
  untilMs: number;
  resolve: (ok: boolean) => void;
}

/** The simulator backend, with time handed out by the UI. */
export class TuiScenarioBackend extends SimScenarioBackend {
  readonly handles: SimAgent[] = [];
  private pending: PendingWait | null = null;
  onNote: ((line: string) => void) | null = null;

  override async startAgent(host: string, args: string[]): Promise<void> {
    // Same as the base class, but keeps the SimAgent handle (Raft/gossip state for the panels).
    const base = this as unknown as { agents: Map<string, SimProcess>; host(name: string): SimHost };
    const h = base.host(host);
    const running = base.agents.get(host);
    if (running && !running.exited) {
      throw new StepError(`${host} already runs an agent (pid ${running.pid}); stop it first (^C, kill agent, or consul leave)`);
    }
    const argv = rewriteAgentArgs(args, { path: (p) => resolvePath(p), addr: (_f, v) => v });
    const handle = spawnAgent(this.world, h.ip, argv);
    base.agents.set(host, handle.process);
    this.handles.push(handle);
    this.world.runFor(0);
  }

  override waitUntil(pred: () => boolean, maxMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.pending = { pred, untilMs: this.world.nowMs() + maxMs, resolve };
    });
  }

  override sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.pending = { pred: () => false, untilMs: this.world.nowMs() + ms, resolve: () => resolve() };
    });
  }

  override note(line: string): void {
    super.note(line);
    this.onNote?.(line);
  }

  get waiting(): boolean {
    return this.pending !== null;
  }

  /**
   * Serve the engine's wait with up to budgetMs of virtual time. Returns early (at the exact
   * event) when the wait ends, so the engine's next step starts at the same moment it would
   * in a plain run.
   */
  advance(budgetMs: number, observer: SimObserver): void {
    const world = this.world;
    const end = world.nowMs() + budgetMs;
    while (this.pending) {
      const p = this.pending;
      const stop = Math.min(end, p.untilMs);
      if (world.nowMs() >= stop && stop < p.untilMs) return;
      observer.poll();
      world.runUntilTrue(() => observer.hasNewOutput() || p.pred(), Math.max(0, stop - world.nowMs()));
      observer.poll();
      if (this.settleWait()) return;
      if (world.nowMs() >= end) return;
    }
  }

  /** Resolve the pending wait if it is over (its condition holds, or its time ran out). */
  settleWait(): boolean {
    const p = this.pending;
    if (!p) return false;
    if (p.pred()) {
      this.pending = null;
      p.resolve(true);
      return true;
    }
    if (this.world.nowMs() >= p.untilMs) {
      this.pending = null;
      p.resolve(false);
      return true;
    }
    return false;
  }
}

export interface ScenarioSession {
  backend: TuiScenarioBackend;
  observer: SimObserver;
  /** Runs the frame's virtual time: serves the engine while it runs, free-runs after. */
  advance(virtualMs: number): void;
  /** The engine's result once it finished (null when it threw; the status line says why). */
  done: Promise<RunResult | null>;
}

export function readScenario(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`muster tui: cannot read scenario file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Parse (throws ScenarioSyntaxError) and start replaying; time moves only through advance(). */
export function startScenario(text: string, file: string, seed: string): ScenarioSession {
  const scenario = parseScenario(text, file);
  const backend = new TuiScenarioBackend(/^\d+$/.test(seed) ? Number(seed) : seed, simCli());
  const observer = new SimObserver(backend.world, () => backend.handles, { mode: 'scenario', title: `scenario ${file}` });
  const total = scenario.steps.length;
  const hostNames = new Set(scenario.hosts.map((h) => h.name));
  let finished = false;
  backend.onNote = (line) => {
    const m = /^scenario line (\d+): (.*)$/.exec(line);
    if (!m) return;
    observer.poll(); // lines printed before this step come first in the timeline
    const step = scenario.steps.findIndex((s) => s.line === Number(m[1])) + 1;
    observer.status = `step ${step}/${total} (line ${m[1]}): ${m[2]}`;
    const first = /^([^\s$]+)/.exec(m[2]!)?.[1] ?? '';
    const host = hostNames.has(first) ? first : 'scenario';
    observer.timeline.note(backend.world.nowMs(), 'info', host, host === 'scenario' ? m[2]! : m[2]!.slice(first.length).replace(/^\$ /, '$ ').trim());
  };
  const done: Promise<RunResult | null> = new ScenarioEngine(scenario, backend, {}).run().then(
    (r): RunResult | null => {
      finished = true;
      const f = r.failures[0];
      observer.status = r.ok
        ? `scenario PASS (${r.stepsRun} steps) — cluster keeps running`
        : `scenario FAIL at line ${f?.line}: ${(f?.message ?? '').split('\n')[0]}`;
      return r;
    },
    (e: unknown): RunResult | null => {
      finished = true;
      observer.status = `scenario error: ${e instanceof Error ? e.message : String(e)}`;
      return null;
    },
  );
  return {
    backend,
    observer,
    done,
    advance(virtualMs: number) {
      if (finished) observer.advance(virtualMs);
      else backend.advance(virtualMs, observer);
    },
  };
}
