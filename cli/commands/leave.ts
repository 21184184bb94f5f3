// cli/commands/leave.ts — `consul leave`: graceful leave of the local agent, then it shuts down.
//
// Owns: Consul's messages (`Graceful leave complete`, `Error leaving: <err>`).
// Must never: wait for the agent process to exit; the agent reports when the leave is done.
import { api, guard, httpAddr, parseFlags, type CliIo } from './common.ts';

const USAGE = `Usage: consul leave [options]

  Causes the agent to gracefully leave the Consul cluster and shutdown.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, {});
    if (rest.length > 0) {
      io.stderr(`Error found unexpected args: [${rest.join(' ')}]\n${USAGE}`);
      return 1;
    }
    const r = await api(io, httpAddr(flags, io.env), 'PUT', '/v1/agent/leave');
    if (r.status !== 200) {
      io.stderr(`Error leaving: ${r.text.trim() || `HTTP ${r.status}`}\n`);
      return 1;
    }
    io.stdout('Graceful leave complete\n');
    return 0;
  });
}
