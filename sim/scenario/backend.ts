// sim/scenario/backend.ts — what the scenario engine needs from a world (simulated or real).
//
// Owns: the contract between engine.ts (which reads steps and compares output) and the two
// backends: sim-backend.ts (virtual hosts, virtual time) and cli/scenario/real-backend.ts
// (processes on loopback addresses, real time).
// Must never: contain behaviour.
import type { Command, HostDecl, Sig } from './types.ts';

/** A long-running process on a host: an agent or a web service. */
export interface ProcView {
  /** Every line it printed so far (banner and log lines for an agent). */
  lines(): string[];
  exited(): boolean;
}

/** A problem running a step (as opposed to output that does not match): no agent to stop, … */
export class StepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepError';
  }
}

export interface ScenarioBackend {
  readonly mode: 'sim' | 'real';
  start(hosts: HostDecl[]): Promise<void>;
  /** Start `consul agent ARGS` on the host (addresses and paths as the file writes them). */
  startAgent(host: string, args: string[]): Promise<void>;
  /** A one-shot command (CLI, dig, curl, discover, files, web services, kill of a web
   *  service); resolves with what it printed, stdout and stderr as a terminal shows them. */
  exec(host: string, cmd: Command): Promise<string>;
  /** The host's current process by name ('agent' or a web service), or null if none ever ran. */
  proc(host: string, name: string): ProcView | null;
  signal(host: string, name: string, sig: Sig): Promise<void>;
  /** Let time pass until pred() holds or maxMs pass; true when pred() held. */
  waitUntil(pred: () => boolean, maxMs: number): Promise<boolean>;
  sleep(ms: number): Promise<void>;
  partition(groups: string[][]): void;
  isolate(host: string): void;
  heal(): void;
  /** Add a line to the trace (sim: hashed). */
  note(line: string): void;
  /** Hash of everything that happened (sim), or null (real). */
  traceHash(): string | null;
  /** Elapsed time since start, for the transcript. */
  elapsedMs(): number;
  /** Stop everything that was started (processes by PID, temp files). Idempotent. */
  close(): Promise<void>;
}
