// cli/main.ts — the `muster` (alias `consul`) command line: dispatches to subcommands.
//
// Owns: argument dispatch and the exit code. Subcommands live in their own files and are
// loaded lazily so `muster members` does not pay for the simulator or ink.
// Must never: hold protocol logic; everything here calls into sim/, transports/ or core/.

type Runner = (args: string[]) => Promise<number>;

const USAGE = `usage: muster <command> [args]

Muster: a Consul-style service registry, as a deterministic simulation testbed with a real-network mode.

Main job:
    demo                   Replay the walkthrough in the simulator (what \`npm start\` runs)

Agent and cluster (Consul-compatible; talk to an agent's HTTP API, -http-addr / CONSUL_HTTP_ADDR):
    agent                  Run a real agent (server or client)
    members, info, join, leave, force-leave, reload, version, monitor, keygen
    kv, catalog, operator, watch
    discover NAME          Resolve a service by DNS (SRV, then A), like the walkthrough's client

Testbed:
    scenario run FILE      Replay a scenario file (simulator, or --real)
    fuzz raft|cluster      Property-based fault schedules; prints the seed on failure
    bench [all|sim|raft|gossip|dns|http|kv]
    tui                    Terminal UI
`;

async function loadBench(args: string[]): Promise<number> {
  const { runBench } = await import('./bench/index.ts');
  return runBench(args);
}

async function loadFuzz(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what === 'raft') {
    const { fuzzRaft } = await import('./fuzz-raft.ts');
    return fuzzRaft(rest);
  }
  if (what === 'cluster') {
    const { fuzzCluster } = await import('./fuzz-cluster.ts');
    return fuzzCluster(rest);
  }
  process.stderr.write(
    `muster fuzz: unknown target '${what ?? ''}'. Use: muster fuzz raft --seeds N [--seed S] [--bug NAME]\n` +
      `                                     or: muster fuzz cluster --seeds N [--seed S] [--servers 3|5] [--clients K] [--bug NAME]\n`,
  );
  return 1;
}

async function loadDemo(args: string[]): Promise<number> {
  const { runDemo } = await import('./demo.ts');
  return runDemo(args);
}

async function loadDiscover(args: string[]): Promise<number> {
  const { discover } = await import('./discover.ts');
  return discover(args, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
}

async function loadAgent(args: string[]): Promise<number> {
  const { agentCommand } = await import('./agent.ts');
  return agentCommand(args);
}

async function loadScenario(args: string[]): Promise<number> {
  const { scenarioCommand } = await import('./scenario.ts');
  return scenarioCommand(args);
}

async function loadTui(args: string[]): Promise<number> {
  (await import('./tui/tty.ts')).interactiveTerminal();
  const { tuiCommand } = await import('./tui/index.tsx');
  return tuiCommand(args);
}

const COMMANDS: Record<string, Runner> = {
  tui: loadTui,
  demo: loadDemo,
  agent: loadAgent,
  scenario: loadScenario,
  discover: loadDiscover,
  bench: loadBench,
  fuzz: loadFuzz,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 1;
  }
  const runner = COMMANDS[cmd];
  if (runner) return runner(rest);
  const external = await loadExternal(cmd);
  if (external) return external(rest);
  process.stderr.write(`muster: unknown command '${cmd}'\n\n${USAGE}`);
  return 1;
}

/** Consul-compatible commands implemented under cli/commands/ (HTTP clients of an agent). */
async function loadExternal(cmd: string): Promise<Runner | null> {
  try {
    const mod = (await import('./commands/index.ts')) as {
      commands?: Record<string, (args: string[], io: unknown) => Promise<number>>;
      defaultIo?: () => unknown;
    };
    const run = mod.commands?.[cmd];
    if (!run || !mod.defaultIo) return null;
    return (args) => run(args, mod.defaultIo!());
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}
