// cli/commands/force-leave.ts — `consul force-leave <node>`: mark a failed member as left.
//
// Owns: Consul's messages (silent on success, `Error force leaving: <err>`).
// Must never: touch Raft directly; the agent's gossip layer (and the leader) do that.
import { api, guard, httpAddr, parseFlags, type CliIo } from './common.ts';

const USAGE = `Usage: consul force-leave [options] name

  Forces a member of a Consul cluster to enter the "left" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out "failed" nodes
  that are never coming back.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, {});
    if (rest.length !== 1) {
      io.stderr(`A node name must be specified to force leave.\n${USAGE}`);
      return 1;
    }
    const r = await api(io, httpAddr(flags, io.env), 'PUT', `/v1/agent/force-leave/${encodeURIComponent(rest[0]!)}`);
    if (r.status !== 200) {
      io.stderr(`Error force leaving: ${r.text.trim() || `HTTP ${r.status}`}\n`);
      return 1;
    }
    return 0;
  });
}
