// cli/commands/dispatch.ts — the one table of every `muster` subcommand, by name.
//
// Owns: name → runner for every command, loaded lazily so `muster members` does not pay for
// the simulator or ink. Tool commands (agent, scenario, fuzz, bench, tui …) are listed here;
// the Consul-compatible HTTP commands are the `commands` map of ./index.ts (the simulator's
// scenario runner uses that map too), reached through the same lookup.
// Must never: hold protocol logic or print usage (cli/main.ts does).

export type Runner = (args: string[]) => Promise<number>;

const stdio = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };

const TOOLS: Record<string, Runner> = {
  agent: async (args) => (await import('./agent.ts')).agentCommand(args),
  demo: async (args) => (await import('./demo.ts')).runDemo(args),
  validate: async (args) => (await import('./validate.ts')).validateCommand(args),
  configtest: async (args) => (await import('./validate.ts')).configtestCommand(args),
  discover: async (args) => (await import('./discover.ts')).discover(args, stdio),
  scenario: async (args) => (await import('./scenario.ts')).scenarioCommand(args),
  bench: async (args) => (await import('../bench/index.ts')).runBench(args),
  fuzz: async (args) => (await import('./fuzz.ts')).fuzzCommand(args),
  tui: async (args) => {
    (await import('../tui/tty.ts')).interactiveTerminal();
    return (await import('../tui/index.tsx')).tuiCommand(args);
  },
};

/** The runner for `cmd`, or null when no command has that name. */
export async function lookupCommand(cmd: string): Promise<Runner | null> {
  const tool = Object.hasOwn(TOOLS, cmd) ? TOOLS[cmd] : undefined;
  if (tool) return tool;
  const { commands, defaultIo } = await import('./index.ts');
  const run = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
  return run ? (args) => run(args, defaultIo()) : null;
}
