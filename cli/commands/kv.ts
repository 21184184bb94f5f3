// cli/commands/kv.ts — `consul kv get|put|delete` with Consul's flags and messages.
//
// Owns: turning the subcommands into /v1/kv requests and printing Consul's wording
// (`Success! Data written to: k`, `Error! No key exists at: k`, `-detailed` blocks, …).
// Must never: decode values it was not asked to (-base64 prints what the API returned).
import { parseJson64, stringifyJson64 } from '../../core/http/json64.ts';
import { api, ApiError, bool, commonQuery, errorText, guard, httpAddr, parseFlags, str, UsageError, withQuery, type CliIo } from './common.ts';

const USAGE = `Usage: consul kv <subcommand> [options] [args]

  Interact with Consul's key-value store.

Subcommands:

    delete    Removes data from the KV store
    export    Exports a tree from the KV store as JSON
    get       Retrieves or lists data from the KV store
    import    Imports a tree stored as JSON to the KV store
    put       Sets or updates data in the KV store

Common options:

  -http-addr=127.0.0.1:8500 HTTP address of the Consul agent (or CONSUL_HTTP_ADDR)
`;

interface Entry {
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Key: string;
  /** uint64: a bigint past 2^53 (parsed with parseJson64). */
  Flags: number | bigint;
  Value: string | null;
  Session?: string;
}

const decode = (v: string | null): string => (v === null ? '' : new TextDecoder().decode(Buffer.from(v, 'base64')));

/** Consul's prettyKVPair: a tabwriter with 6 spaces of padding after the longest label. */
export function detailed(e: Entry, base64: boolean): string {
  const rows: Array<[string, string]> = [
    ['CreateIndex', String(e.CreateIndex)],
    ['Flags', String(e.Flags)],
    ['Key', e.Key],
    ['LockIndex', String(e.LockIndex)],
    ['ModifyIndex', String(e.ModifyIndex)],
    ['Session', e.Session || '-'],
    ['Value', base64 ? (e.Value ?? '') : decode(e.Value)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length)) + 6;
  return rows.map(([k, v]) => `${k.padEnd(w)}${v}`.trimEnd()).join('\n');
}

async function get(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { recurse: 'bool', keys: 'bool', separator: 'string', detailed: 'bool', base64: 'bool' });
  const recurse = bool(flags, 'recurse');
  const keys = bool(flags, 'keys');
  if (rest.length > 1) throw new UsageError(`Too many arguments (expected 1, got ${rest.length})`);
  const key = rest[0] ?? '';
  if (key === '' && !recurse && !keys) throw new UsageError('Error! Missing KEY argument');
  if (key.startsWith('/')) throw new UsageError(`Error! Key "${key}" must not begin with a "/"`);
  const addr = httpAddr(flags, io.env);
  const q = commonQuery(flags);
  const path = `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`;
  const b64 = bool(flags, 'base64');

  if (keys) {
    const sep = flags['separator'] === undefined ? '/' : str(flags, 'separator');
    const r = await api(io, addr, 'GET', withQuery(path, [...q, 'keys', ...(sep ? [`separator=${encodeURIComponent(sep)}`] : [])]));
    if (r.status === 404) return 0;
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    for (const k of JSON.parse(r.text) as string[]) io.stdout(`${k}\n`);
    return 0;
  }
  if (recurse) {
    const r = await api(io, addr, 'GET', withQuery(path, [...q, 'recurse']));
    if (r.status === 404) return 0;
    if (r.status !== 200) throw new ApiError(r.status, r.text);
    const entries = parseJson64(r.text) as Entry[];
    if (bool(flags, 'detailed')) io.stdout(`${entries.map((e) => detailed(e, b64)).join('\n\n')}\n`);
    else for (const e of entries) io.stdout(`${e.Key}:${b64 ? (e.Value ?? '') : decode(e.Value)}\n`);
    return 0;
  }
  const r = await api(io, addr, 'GET', withQuery(path, q));
  if (r.status === 404) {
    io.stderr(`Error! No key exists at: ${key}\n`);
    return 1;
  }
  if (r.status !== 200) throw new ApiError(r.status, r.text);
  const [e] = parseJson64(r.text) as Entry[];
  if (bool(flags, 'detailed')) io.stdout(`${detailed(e!, b64)}\n`);
  else io.stdout(`${b64 ? (e!.Value ?? '') : decode(e!.Value)}\n`);
  return 0;
}

async function put(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, {
    flags: 'string',
    cas: 'bool',
    'modify-index': 'string',
    acquire: 'bool',
    release: 'bool',
    session: 'string',
    base64: 'bool',
  });
  if (rest.length === 0) throw new UsageError('Error! Missing KEY argument');
  if (rest.length > 2) throw new UsageError(`Too many arguments (expected 1 or 2, got ${rest.length})`);
  const key = rest[0]!;
  if (key.startsWith('/')) throw new UsageError(`Error! Key "${key}" must not begin with a "/"`);
  let value: Uint8Array;
  const data = rest[1] ?? '';
  if (data.startsWith('@')) {
    if (!io.readFile) throw new UsageError('Error! Reading @file data is not available here');
    try {
      value = await io.readFile(data.slice(1));
    } catch (err) {
      io.stderr(`Error! Failed to read file: ${errorText(err)}\n`);
      return 1;
    }
  } else if (data === '-') {
    if (!io.readStdin) throw new UsageError('Error! Reading data from stdin is not available here');
    value = await io.readStdin();
  } else {
    value = new TextEncoder().encode(data);
  }
  if (bool(flags, 'base64')) value = new Uint8Array(Buffer.from(new TextDecoder().decode(value), 'base64'));

  const q = commonQuery(flags);
  if (str(flags, 'flags')) q.push(`flags=${encodeURIComponent(str(flags, 'flags'))}`);
  const cas = bool(flags, 'cas');
  const acquire = bool(flags, 'acquire');
  const release = bool(flags, 'release');
  const session = str(flags, 'session');
  if (cas) {
    if (flags['modify-index'] === undefined) throw new UsageError('Must specify -modify-index with -cas!');
    q.push(`cas=${encodeURIComponent(str(flags, 'modify-index'))}`);
  }
  if ((acquire || release) && !session) throw new UsageError('Error! Missing -session (required with -acquire and -release)');
  if (acquire) q.push(`acquire=${encodeURIComponent(session)}`);
  if (release) q.push(`release=${encodeURIComponent(session)}`);

  const path = withQuery(`/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`, q);
  const r = await api(io, httpAddr(flags, io.env), 'PUT', path, value);
  if (r.status !== 200) {
    io.stderr(`Error! Failed writing data: ${new ApiError(r.status, r.text).message}\n`);
    return 1;
  }
  const ok = r.text.trim() === 'true';
  if (cas && !ok) {
    io.stderr(`Error! Did not write to ${key}: CAS failed\n`);
    return 1;
  }
  if (acquire) {
    if (!ok) {
      io.stderr('Error! Did not acquire lock\n');
      return 1;
    }
    io.stdout(`Success! Lock acquired on: ${key}\n`);
    return 0;
  }
  if (release) {
    if (!ok) {
      io.stderr('Error! Did not release lock\n');
      return 1;
    }
    io.stdout(`Success! Lock released on: ${key}\n`);
    return 0;
  }
  io.stdout(`Success! Data written to: ${key}\n`);
  return 0;
}

async function del(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { recurse: 'bool', cas: 'bool', 'modify-index': 'string' });
  if (rest.length > 1) throw new UsageError(`Too many arguments (expected 1, got ${rest.length})`);
  const key = rest[0] ?? '';
  const recurse = bool(flags, 'recurse');
  if (key === '' && !recurse) throw new UsageError('Error! Missing KEY argument');
  const cas = bool(flags, 'cas');
  if (cas && recurse) throw new UsageError('Cannot specify both -cas and -recurse!');
  const q = commonQuery(flags);
  if (recurse) q.push('recurse');
  if (cas) {
    if (flags['modify-index'] === undefined) throw new UsageError('Must specify -modify-index with -cas!');
    q.push(`cas=${encodeURIComponent(str(flags, 'modify-index'))}`);
  }
  const r = await api(io, httpAddr(flags, io.env), 'DELETE', withQuery(`/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`, q));
  if (r.status !== 200) {
    io.stderr(`Error! Failed deleting data: ${new ApiError(r.status, r.text).message}\n`);
    return 1;
  }
  if (cas && r.text.trim() !== 'true') {
    io.stderr(`Error! Did not delete key ${key}: CAS failed\n`);
    return 1;
  }
  io.stdout(recurse ? `Success! Deleted keys with prefix: ${key}\n` : `Success! Deleted key: ${key}\n`);
  return 0;
}

/** `consul kv export [PREFIX]`: Consul's JSON (key, flags, base64 value), tab-indented. */
async function exportKv(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, {});
  if (rest.length > 1) throw new UsageError(`Too many arguments (expected 1, got ${rest.length})`);
  const prefix = rest[0] ?? '';
  const path = withQuery(`/v1/kv/${prefix.split('/').map(encodeURIComponent).join('/')}`, [...commonQuery(flags), 'recurse']);
  const r = await api(io, httpAddr(flags, io.env), 'GET', path);
  if (r.status !== 200 && r.status !== 404) {
    io.stderr(`Error querying Consul agent: ${new ApiError(r.status, r.text).message}
`);
    return 1;
  }
  const entries = r.status === 404 ? [] : (parseJson64(r.text) as Entry[]);
  const out = entries.map((e) => ({ key: e.Key, flags: e.Flags, value: e.Value ?? '' }));
  io.stdout(`${(stringifyJson64(out, 1) ?? '[]').replace(/^( +)/gm, (m) => '\t'.repeat(m.length))}\n`);
  return 0;
}

/** `consul kv import [-prefix P] DATA` with DATA as JSON text, @file or - (stdin). */
async function importKv(args: string[], io: CliIo): Promise<number> {
  const { flags, rest } = parseFlags(args, { prefix: 'string' });
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'Error! Missing DATA argument' : `Too many arguments (expected 1, got ${rest.length})`);
  const data = rest[0]!;
  let text: string;
  if (data.startsWith('@')) {
    if (!io.readFile) throw new UsageError('Error! Reading @file data is not available here');
    try {
      text = new TextDecoder().decode(await io.readFile(data.slice(1)));
    } catch (err) {
      io.stderr(`Error! Failed to read file: ${errorText(err)}\n`);
      return 1;
    }
  } else if (data === '-') {
    if (!io.readStdin) throw new UsageError('Error! Reading data from stdin is not available here');
    text = new TextDecoder().decode(await io.readStdin());
  } else text = data;
  let entries: Array<{ key?: unknown; flags?: unknown; value?: unknown }>;
  try {
    const v = parseJson64(text);
    if (!Array.isArray(v)) throw new Error('expected a JSON array of {"key","flags","value"} objects');
    entries = v as typeof entries;
  } catch (err) {
    io.stderr(`Cannot unmarshal data: ${errorText(err)}\n`);
    return 1;
  }
  const prefix = str(flags, 'prefix');
  const addr = httpAddr(flags, io.env);
  for (const [i, e] of entries.entries()) {
    if (typeof e?.key !== 'string' || (e.value !== undefined && typeof e.value !== 'string')) {
      io.stderr(`Error! Entry ${i} needs a string "key" and a base64 string "value"\n`);
      return 1;
    }
    const key = `${prefix}${e.key}`;
    const value = new Uint8Array(Buffer.from((e.value as string | undefined) ?? '', 'base64'));
    const q = [...commonQuery(flags)];
    if (e.flags !== undefined && e.flags !== 0) q.push(`flags=${String(e.flags)}`);
    const r = await api(io, addr, 'PUT', withQuery(`/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`, q), value);
    if (r.status !== 200) {
      io.stderr(`Error! Failed writing data for key ${key}: ${new ApiError(r.status, r.text).message}\n`);
      return 1;
    }
    io.stdout(`Imported: ${key}\n`);
  }
  return 0;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return guard(io, USAGE, async () => {
    const [sub, ...rest] = args;
    try {
      switch (sub) {
        case 'get':
          return await get(rest, io);
        case 'put':
          return await put(rest, io);
        case 'delete':
          return await del(rest, io);
        case 'export':
          return await exportKv(rest, io);
        case 'import':
          return await importKv(rest, io);
        default:
          io.stderr(sub ? `Unknown kv subcommand '${sub}'.\n${USAGE}` : USAGE);
          return 1;
      }
    } catch (err) {
      if (err instanceof ApiError) {
        io.stderr(`Error querying Consul agent: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  });
}
