// cli/commands/reload.ts — `consul reload`: the agent re-reads its config dir (services, checks).
//
// Owns: Consul's messages (`Configuration reload triggered`, `Error reloading: <err>`).
import { api, guard, httpAddr, parseFlags, type CliIo } from './common.ts';

const USAGE = `Usage: consul reload [options]

  Causes the agent to reload configurations. This can be used instead
  of sending the SIGHUP signal to the agent.

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
    const r = await api(io, httpAddr(flags, io.env), 'PUT', '/v1/agent/reload');
    if (r.status !== 200) {
      io.stderr(`Error reloading: ${r.text.trim() || `HTTP ${r.status}`}\n`);
      return 1;
    }
    io.stdout('Configuration reload triggered\n');
    return 0;
  });
}
