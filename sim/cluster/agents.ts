// sim/cluster/agents.ts — running real agent processes (core/agent/process.ts) on virtual hosts.
//
// Owns: spawning `consul agent …` on a SimHost with the world's ports, keeping a handle to
// each running agent (for tests, the TUI and the scenario runner), and the sim's runtime facts.
// Must never: reach into the agent's state to change it; everything goes through the
// process's ports, signals and HTTP, as it would for a real agent.
import type { SimProcess, SimProcessContext, SimWorld } from '../world.ts';
import { startAgentProcess, type AgentProcess } from '../../core/agent/process.ts';
import type { AgentBugs } from '../../core/agent/agent.ts';
import type { RaftConfig } from '../../core/raft/types.ts';

export const SIM_RUNTIME = { os: 'linux', arch: 'amd64', version: 'muster-sim', cpuCount: 1 };

export interface SimAgent {
  host: string;
  process: SimProcess;
  /** null when the agent refused to start (bad flags, bad config). */
  agent: AgentProcess | null;
}

export interface SpawnAgentOptions {
  raftOverrides?: Partial<RaftConfig>;
  bugs?: AgentBugs;
  /** Called for every stdout line (banner and log lines). */
  onLine?: (line: string) => void;
}

/** Spawn `consul agent <args>` on the host; argv excludes the leading 'consul agent'. */
export function spawnAgent(world: SimWorld, hostIp: string, args: string[], opts: SpawnAgentOptions = {}): SimAgent {
  const host = world.host(hostIp);
  const handle: SimAgent = { host: host.ip, process: undefined as unknown as SimProcess, agent: null };
  const epochMs = world.kernel.epochMs;
  handle.process = host.spawn(['consul', 'agent', ...args], (ctx: SimProcessContext) => {
    const ap = startAgentProcess({
      ports: ctx.ports,
      argv: args,
      hostName: host.name,
      rng: world.rng.fork(`agent/${host.ip}/${ctx.pid}`),
      runtime: SIM_RUNTIME,
      stdout: (line) => {
        ctx.stdout(line);
        opts.onLine?.(line);
      },
      exit: (code) => ctx.exit(code),
      raftOverrides: opts.raftOverrides,
      logEpochMs: epochMs,
      bugs: opts.bugs,
    });
    handle.agent = ap;
    if (ap) ctx.onSignal((sig) => ap.signal(sig));
  });
  return handle;
}
