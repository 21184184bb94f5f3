// cli/commands/operator.ts — `consul operator raft list-peers|remove-peer`.
//
// Owns: the peers table (`Node  ID  Address  State  Voter  RaftProtocol`) and remove-peer's
// messages, over /v1/operator/raft/configuration and DELETE /v1/operator/raft/peer.
// Must never: change Raft membership except through the leader's API.
import { api, ApiError, apiJson, bool, columnize, guard, httpAddr, parseFlags, str, UsageError, type CliIo } from './common.ts';

const USAGE = `Usage: consul operator raft <subcommand> [options]

  Inspect and modify the Raft peer set of the Consul servers.

Subcommands:

    list-peers      Display the current Raft peer configuration (-stale to ask any server)
    remove-peer     Remove a Consul server from the Raft configuration (-address=ip:port)

Common options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

interface ServerJson {
  ID: string;
  Node: string;
  Address: string;
  Leader: boolean;
  Voter: boolean;
  ProtocolVersion?: string | number;
}

async function listPeers(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, {});
  if (rest.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${rest.length})`);
  let cfg: { Servers: ServerJson[] };
  try {
    cfg = (await apiJson(io, httpAddr(flags, io.env), 'GET', `/v1/operator/raft/configuration${bool(flags, 'stale') ? '?stale' : ''}`)) as {
      Servers: ServerJson[];
    };
  } catch (err) {
    if (err instanceof ApiError) {
      io.stderr(`Error getting peers: Failed to retrieve raft configuration: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const rows = (cfg?.Servers ?? []).map((s) => [
    s.Node || '(unknown)',
    s.ID,
    s.Address,
    s.Leader ? 'leader' : 'follower',
    String(s.Voter),
    s.ProtocolVersion === undefined || s.ProtocolVersion === '' ? '<=1' : String(s.ProtocolVersion),
  ]);
  io.stdout(`${columnize([['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol'], ...rows])}\n`);
  return 0;
}

async function removePeer(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { address: 'string', id: 'string' });
  if (rest.length > 0) throw new UsageError(`Too many arguments (expected 0, got ${rest.length})`);
  const address = str(flags, 'address') || str(flags, 'id');
  if (!address) throw new UsageError('Missing peer address: use -address=<ip>:<port> (the server RPC port, e.g. 10.0.0.1:8300)');
  const r = await api(io, httpAddr(flags, io.env), 'DELETE', `/v1/operator/raft/peer?address=${encodeURIComponent(address)}`);
  if (r.status !== 200) {
    io.stderr(`Error removing peer: ${new ApiError(r.status, r.text).message}\n`);
    return 1;
  }
  io.stdout(`Removed peer with address "${address}"\n`);
  return 0;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [group, sub, ...rest] = args;
    if (group !== 'raft') {
      io.stderr(group ? `Unknown operator subcommand '${group}' (Muster supports: operator raft).\n${USAGE}` : USAGE);
      return 1;
    }
    if (sub === 'list-peers') return listPeers(rest, io);
    if (sub === 'remove-peer') return removePeer(rest, io);
    io.stderr(sub ? `Unknown operator raft subcommand '${sub}'.\n${USAGE}` : USAGE);
    return 1;
  });
}
