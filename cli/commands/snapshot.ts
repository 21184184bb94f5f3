// cli/commands/snapshot.ts — `consul snapshot save|restore|inspect FILE`.
//
// Owns: saving the servers' state through GET /v1/snapshot (verified before it is written
// to disk), restoring it with PUT /v1/snapshot, and printing an archive's metadata, all with
// Consul's wording ("Saved and verified snapshot to index N", "Restored snapshot").
// Must never: write a snapshot it has not verified, or a partial file.
import { ArchiveError, readArchive } from '../../core/catalog/archive.ts';
import { api, ApiError, commonQuery, errorText, guard, httpAddr, parseFlags, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul snapshot <subcommand> [options] [args]

  Saves, restores and inspects snapshots of Consul server state.

Subcommands:

    inspect    Displays information about a Consul snapshot file
    restore    Restores snapshot of Consul server state
    save       Saves snapshot of Consul server state

Common options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

function oneFile(rest: string[]): string {
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'Missing FILE argument' : `Too many arguments (expected 1, got ${rest.length})`);
  return rest[0]!;
}

async function readSnapshotFile(io: CliIo, file: string): Promise<Uint8Array> {
  if (!io.readFile) throw new UsageError('Error! Reading files is not available here');
  return io.readFile(file);
}

async function save(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, {});
  const file = oneFile(rest);
  if (!io.writeFile) throw new UsageError('Error! Writing files is not available here');
  const r = await io.http.request(httpAddr(flags, io.env), 'GET', withQuery('/v1/snapshot', commonQuery(flags)));
  if (r.status !== 200) {
    io.stderr(`Error saving snapshot: ${new ApiError(r.status, new TextDecoder().decode(r.body)).message}\n`);
    return 1;
  }
  let index: number;
  try {
    index = readArchive(r.body).meta.Index;
  } catch (e) {
    io.stderr(`Error verifying snapshot file: ${errorText(e)}\n`);
    return 1;
  }
  await io.writeFile(file, r.body);
  io.stdout(`Saved and verified snapshot to index ${index}\n`);
  return 0;
}

async function restore(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, {});
  const file = oneFile(rest);
  let data: Uint8Array;
  try {
    data = await readSnapshotFile(io, file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr(`Error opening snapshot file: ${errorText(e)}\n`);
    return 1;
  }
  const r = await api(io, httpAddr(flags, io.env), 'PUT', withQuery('/v1/snapshot', commonQuery(flags)), data);
  if (r.status !== 200) {
    io.stderr(`Error restoring snapshot: ${new ApiError(r.status, r.text).message}\n`);
    return 1;
  }
  io.stdout('Restored snapshot\n');
  return 0;
}

async function inspect(args: string[], io: CliIo): Promise<number> {
  const { rest } = parseFlags(args, {});
  const file = oneFile(rest);
  let data: Uint8Array;
  try {
    data = await readSnapshotFile(io, file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr(`Error opening snapshot file: ${errorText(e)}\n`);
    return 1;
  }
  try {
    const { meta } = readArchive(data);
    const rows: Array<[string, string]> = [
      ['ID', meta.ID],
      ['Size', String(meta.Size)],
      ['Index', String(meta.Index)],
      ['Term', String(meta.Term)],
      ['Version', String(meta.Version)],
    ];
    io.stdout(`${rows.map(([k, v]) => `${k.padEnd(13)}${v}`).join('\n')}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e;
    io.stderr(`Error extracting snapshot data: ${e.message}\n`);
    return 1;
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'save':
        return save(rest, io);
      case 'restore':
        return restore(rest, io);
      case 'inspect':
        return inspect(rest, io);
      default:
        io.stderr(sub ? `Unknown snapshot subcommand '${sub}'.\n${USAGE}` : USAGE);
        return 1;
    }
  });
}
