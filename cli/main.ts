// cli/main.ts — the `muster` (alias `consul`) command line: dispatches to subcommands.
//
// Owns: the usage text and the exit code. Every subcommand is in cli/commands/, found through
// the one table in cli/commands/dispatch.ts.
// Must never: hold protocol logic; everything here calls into sim/, transports/ or core/.
import { lookupCommand } from './commands/dispatch.ts';

const USAGE = `usage: muster <command> [args]

Muster: a Consul-style service registry, as a deterministic simulation testbed with a real-network mode.

Main job:
    demo                   Replay the walkthrough in the simulator (what \`npm start\` runs)

Agent and cluster (Consul-compatible; talk to an agent's HTTP API, -http-addr / CONSUL_HTTP_ADDR):
    agent                  Run a real agent (server or client)
    members, info, join, leave, force-leave, reload, version, monitor, keygen
    kv, catalog, operator, watch, lock, maint, snapshot
    validate FILE_OR_DIR…  Check agent config files (JSON/HCL) without starting an agent (0.5: configtest)
    discover NAME          Resolve a service by DNS (SRV, then A), like the walkthrough's client

Testbed:
    scenario run FILE      Replay a scenario file (simulator, or --real)
    fuzz raft|cluster      Property-based fault schedules; prints the seed on failure
    bench [all|sim|raft|gossip|dns|http|kv]
    tui                    Terminal UI
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 1;
  }
  const runner = await lookupCommand(cmd);
  if (runner) return runner(rest);
  process.stderr.write(`muster: unknown command '${cmd}'\n\n${USAGE}`);
  return 1;
}
