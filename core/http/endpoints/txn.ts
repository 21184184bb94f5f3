// core/http/endpoints/txn.ts — PUT /v1/txn: Consul's transactions over KV, nodes, services
// and checks.
//
// Owns: decoding Consul's TxnOps JSON (case-insensitive fields, base64 values, uint64
// Flags), the request limits (512 KB body and 64 ops → 413, oversize values → 413), choosing
// Txn.Read (every op a read: served by the servers' state without Raft, with query-meta
// headers) or one Raft write, and rendering Consul's TxnResponse: 200, or 409 with Errors
// ({OpIndex, What}) and Results null when the transaction rolled back.
// Must never: apply ops itself or decide their outcome; the catalog FSM does, all or nothing.
import { KV_VALUE_MAX_BYTES, MAX_TXN_OPS, type TxnOp, type TxnResponse, type TxnResult } from '../../catalog/commands.ts';
import { fromBase64 } from '../../catalog/base64.ts';
import { txnReadOnly } from '../../catalog/txn.ts';
import { toU64 } from '../../catalog/u64.ts';
import { readUtf8 } from '../../codec/utf8.ts';
import { field, respond, write, type Call } from '../call.ts';
import { checkJson, kvJson, nodeJson, serviceJson } from '../encode.ts';
import { parseJson64 } from '../json64.ts';
import { BadRequest } from '../params.ts';
import { json, metaHeaders, rpcError, text } from '../respond.ts';
import type { HttpOutcome, HttpResponse } from '../types.ts';

/** Consul's txn_max_req_len default (the KV value limit). */
export const TXN_MAX_REQ_BYTES = KV_VALUE_MAX_BYTES;

type Obj = Record<string, unknown>;

const bad = (msg: string): never => {
  throw new BadRequest(`Failed to parse body: ${msg}`);
};
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, where: string): Obj {
  if (v === undefined || v === null) return {};
  return isObj(v) ? v : bad(`${where} must be a JSON object`);
}
function str(o: Obj, name: string, where: string): string | undefined {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : bad(`${where}.${name} must be a string`);
}
function uint(o: Obj, name: string, where: string): number | undefined {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : bad(`${where}.${name} must be a non-negative integer`);
}
function strList(o: Obj, name: string, where: string): string[] | undefined {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : bad(`${where}.${name} must be a list of strings`);
}
function strMap(o: Obj, name: string, where: string): Record<string, string> | undefined {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  return isObj(v) && Object.values(v).every((x) => typeof x === 'string') ? (v as Record<string, string>) : bad(`${where}.${name} must be an object of strings`);
}
const defined = <T extends Obj>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function kvOp(o: Obj, where: string): TxnOp {
  const rawValue = field(o, 'Value');
  let value: Uint8Array | undefined;
  if (rawValue !== undefined && rawValue !== null) {
    if (typeof rawValue !== 'string') bad(`${where}.Value must be base64 text`);
    try {
      value = fromBase64(rawValue as string);
    } catch (e) {
      bad(`${where}.Value: ${(e as Error).message}`);
    }
  }
  const rawFlags = field(o, 'Flags');
  const flags = rawFlags === undefined || rawFlags === null ? undefined : toU64(rawFlags);
  if (flags === null) bad(`${where}.Flags must be an unsigned 64-bit integer`);
  const key = str(o, 'Key', where) ?? '';
  if (value && value.length > KV_VALUE_MAX_BYTES) {
    throw new BadRequest(`Value for key ${JSON.stringify(key)} is too large (${value.length} > ${KV_VALUE_MAX_BYTES} bytes)`, 413);
  }
  return {
    KV: defined({
      Verb: str(o, 'Verb', where) ?? '',
      Key: key,
      Value: value,
      Flags: flags ?? undefined,
      Index: uint(o, 'Index', where),
      Session: str(o, 'Session', where),
    }),
  };
}

function nodeSpec(o: Obj, where: string) {
  return defined({
    ID: str(o, 'ID', where),
    Node: str(o, 'Node', where) ?? '',
    Address: str(o, 'Address', where),
    Datacenter: str(o, 'Datacenter', where),
    TaggedAddresses: strMap(o, 'TaggedAddresses', where),
    Meta: strMap(o, 'Meta', where),
    ModifyIndex: uint(o, 'ModifyIndex', where),
  });
}

function serviceSpec(o: Obj, where: string) {
  const w = field(o, 'Weights');
  let weights: { Passing: number; Warning: number } | undefined;
  if (w !== undefined && w !== null) {
    const wo = obj(w, `${where}.Weights`);
    weights = { Passing: uint(wo, 'Passing', `${where}.Weights`) ?? 1, Warning: uint(wo, 'Warning', `${where}.Weights`) ?? 1 };
  }
  const eto = field(o, 'EnableTagOverride');
  if (eto !== undefined && eto !== null && typeof eto !== 'boolean') bad(`${where}.EnableTagOverride must be a boolean`);
  return defined({
    ID: str(o, 'ID', where),
    Service: str(o, 'Service', where),
    Tags: strList(o, 'Tags', where),
    Address: str(o, 'Address', where),
    Port: uint(o, 'Port', where),
    Meta: strMap(o, 'Meta', where),
    EnableTagOverride: typeof eto === 'boolean' ? eto : undefined,
    Weights: weights,
    ModifyIndex: uint(o, 'ModifyIndex', where),
  });
}

function checkSpec(o: Obj, where: string) {
  const status = str(o, 'Status', where);
  if (status !== undefined && status !== '' && !['passing', 'warning', 'critical'].includes(status)) {
    bad(`${where}.Status must be passing, warning or critical`);
  }
  return defined({
    Node: str(o, 'Node', where) ?? '',
    CheckID: str(o, 'CheckID', where),
    Name: str(o, 'Name', where),
    Status: (status || undefined) as 'passing' | 'warning' | 'critical' | undefined,
    Notes: str(o, 'Notes', where),
    Output: str(o, 'Output', where),
    ServiceID: str(o, 'ServiceID', where),
    Type: str(o, 'Type', where),
    ModifyIndex: uint(o, 'ModifyIndex', where),
  });
}

/** Consul's TxnOps JSON → catalog TxnOps. */
export function decodeTxnOps(body: unknown): TxnOp[] {
  if (body === undefined || body === null) return [];
  if (!Array.isArray(body)) bad('expected a JSON array of operations');
  const ops = body as unknown[];
  if (ops.length > MAX_TXN_OPS) {
    throw new BadRequest(`Transaction contains too many operations (${ops.length} > ${MAX_TXN_OPS})`, 413);
  }
  return ops.map((raw, i): TxnOp => {
    const where = `operation ${i}`;
    const op = obj(raw, where);
    const kv = field(op, 'KV');
    if (kv !== undefined && kv !== null) return kvOp(obj(kv, `${where}.KV`), `${where}.KV`);
    const node = field(op, 'Node');
    if (node !== undefined && node !== null) {
      const n = obj(node, `${where}.Node`);
      return { Node: { Verb: str(n, 'Verb', `${where}.Node`) ?? '', Node: nodeSpec(obj(field(n, 'Node'), `${where}.Node.Node`), `${where}.Node.Node`) } };
    }
    const svc = field(op, 'Service');
    if (svc !== undefined && svc !== null) {
      const s = obj(svc, `${where}.Service`);
      return {
        Service: {
          Verb: str(s, 'Verb', `${where}.Service`) ?? '',
          Node: str(s, 'Node', `${where}.Service`) ?? '',
          Service: serviceSpec(obj(field(s, 'Service'), `${where}.Service.Service`), `${where}.Service.Service`),
        },
      };
    }
    const chk = field(op, 'Check');
    if (chk !== undefined && chk !== null) {
      const c = obj(chk, `${where}.Check`);
      return { Check: { Verb: str(c, 'Verb', `${where}.Check`) ?? '', Check: checkSpec(obj(field(c, 'Check'), `${where}.Check.Check`), `${where}.Check.Check`) } };
    }
    // Consul's state store: "no operation specified" (sessions and intentions are not
    // accepted through this endpoint by Muster).
    return bad(`${where} names no operation: use one of KV, Node, Service, Check`);
  });
}

function resultJson(r: TxnResult): Obj {
  if ('KV' in r) return { KV: kvJson(r.KV) };
  if ('Node' in r) return { Node: nodeJson(r.Node) };
  if ('Service' in r) return { Service: serviceJson(r.Service) };
  return { Check: checkJson(r.Check) };
}

function render(call: Call, v: TxnResponse, headers: Record<string, string> = {}): HttpResponse {
  const body = { Results: v.Results ? v.Results.map(resultJson) : null, Errors: v.Errors };
  return json(v.Errors ? 409 : 200, body, call.pretty, headers);
}

export function txn(call: Call): HttpOutcome {
  const b = call.req.body;
  if (b.length > TXN_MAX_REQ_BYTES) {
    return respond(
      text(
        413,
        `Request body(${b.length} bytes) too large, max size: ${TXN_MAX_REQ_BYTES} bytes. See https://www.consul.io/docs/agent/options.html#txn_max_req_len.`,
      ),
    );
  }
  const s = readUtf8(b, 0, b.length);
  if (s === null) bad('body is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = s!.trim() === '' ? undefined : parseJson64(s!);
  } catch (e) {
    bad((e as Error).message);
  }
  const ops = decodeTxnOps(parsed);
  if (txnReadOnly(ops)) {
    const consistency = call.params.consistency();
    return {
      kind: 'rpc',
      request: { type: 'read', query: { q: 'txnRead', ops }, consistency, minIndex: 0, maxWaitMs: 0 },
      then: (r) => (r.ok ? render(call, r.value as TxnResponse, metaHeaders(r.meta)) : rpcError(r.error, r.meta)),
    };
  }
  return write(call, { op: 'txn', nowMs: call.ctx.nowMs, ops }, (v) => render(call, v as TxnResponse));
}
