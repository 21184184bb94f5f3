// cli/commands/join.ts — `consul join [-wan] address ...`.
//
// Owns: asking the local agent to join each address, and Consul's messages:
// `Successfully joined cluster by contacting N nodes.`, `Error joining address '<a>': <err>`,
// `Failed to join any nodes.`, `At least one address to join must be specified.`
// Must never: contact the addresses itself; the agent does the gossip join.
import { api, bool, guard, httpAddr, parseFlags, type CliIo } from './common.ts';

const USAGE = `Usage: consul join [options] address ...

  Tells a running Consul agent (with "consul agent") to join the cluster
  by specifying at least one existing member.

Options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
  -wan                      Joins a server to another server in the WAN pool
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const { flags, rest } = parseFlags(args, { wan: 'bool' });
    if (rest.length === 0) {
      io.stderr(`At least one address to join must be specified.\n${USAGE}`);
      return 1;
    }
    const addr = httpAddr(flags, io.env);
    let joined = 0;
    for (const target of rest) {
      const path = `/v1/agent/join/${encodeURIComponent(target)}${bool(flags, 'wan') ? '?wan=1' : ''}`;
      const r = await api(io, addr, 'PUT', path);
      if (r.status === 200) {
        // The agent reports how many nodes it contacted; an empty body means one.
        const n = r.text.trim() === '' ? 1 : Number(r.text);
        joined += Number.isFinite(n) ? n : 1;
      } else {
        io.stderr(`Error joining address '${target}': ${r.text.trim() || `HTTP ${r.status}`}\n`);
      }
    }
    if (joined === 0) {
      io.stderr('Failed to join any nodes.\n');
      return 1;
    }
    io.stdout(`Successfully joined cluster by contacting ${joined} nodes.\n`);
    return 0;
  });
}
