// core/http/encode.ts — catalog and agent records rendered as Consul's JSON objects.
//
// Owns: field names, field order (Go struct order) and unit conversions of every JSON
// shape the API returns: members, nodes, catalog service entries, health entries, checks,
// KV entries (base64 values, Session omitted when unheld), sessions (LockDelay in ns,
// TTL as a Go duration string).
// Must never: filter or sort; callers hand over exactly what is to be shown.
import { u64Json } from '../catalog/u64.ts';
import { toBase64 } from '../catalog/base64.ts';
import type {
  CatalogNode,
  CatalogService,
  HealthCheck,
  KVEntry,
  ServiceInstance,
  Session,
} from '../catalog/types.ts';
import { formatGoDuration } from './duration.ts';
import { MEMBER_STATUS_CODE, type LocalCheck, type LocalService, type Member } from './types.ts';

export function memberJson(m: Member): Record<string, unknown> {
  return {
    Name: m.name,
    Addr: m.addr,
    Port: m.port,
    Tags: m.tags,
    Status: MEMBER_STATUS_CODE[m.status],
    ProtocolMin: m.protocolMin,
    ProtocolMax: m.protocolMax,
    ProtocolCur: m.protocolCur,
    DelegateMin: m.delegateMin,
    DelegateMax: m.delegateMax,
    DelegateCur: m.delegateCur,
  };
}

export function nodeJson(n: CatalogNode): Record<string, unknown> {
  return {
    ID: n.ID,
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter,
    TaggedAddresses: n.TaggedAddresses,
    Meta: n.Meta,
    CreateIndex: n.CreateIndex,
    ModifyIndex: n.ModifyIndex,
  };
}

/** A service as nested in /v1/health/service and /v1/catalog/node (no node fields). */
export function serviceJson(s: CatalogService): Record<string, unknown> {
  return {
    ID: s.ID,
    Service: s.Service,
    Tags: s.Tags,
    Address: s.Address,
    Meta: s.Meta,
    Port: s.Port,
    Weights: s.Weights,
    EnableTagOverride: s.EnableTagOverride,
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  };
}

/** One row of /v1/catalog/service/:name: node and service flattened together. */
export function catalogServiceJson(n: CatalogNode, s: CatalogService): Record<string, unknown> {
  return {
    ID: n.ID,
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter,
    TaggedAddresses: n.TaggedAddresses,
    NodeMeta: n.Meta,
    ServiceID: s.ID,
    ServiceName: s.Service,
    ServiceTags: s.Tags,
    ServiceAddress: s.Address,
    ServiceWeights: s.Weights,
    ServiceMeta: s.Meta,
    ServicePort: s.Port,
    ServiceEnableTagOverride: s.EnableTagOverride,
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  };
}

export function checkJson(c: HealthCheck): Record<string, unknown> {
  // Added to, not spread: a spread object leaves JSON.stringify's fast path (~6x slower here),
  // and this runs for every check of every health read.
  const out = localCheckJson(c);
  out['CreateIndex'] = c.CreateIndex;
  out['ModifyIndex'] = c.ModifyIndex;
  return out;
}

export function instanceJson(i: ServiceInstance): Record<string, unknown> {
  return { Node: nodeJson(i.Node), Service: serviceJson(i.Service), Checks: i.Checks.map(checkJson) };
}

export function kvJson(e: KVEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {
    CreateIndex: e.CreateIndex,
    ModifyIndex: e.ModifyIndex,
    LockIndex: e.LockIndex,
    Key: e.Key,
    Flags: u64Json(e.Flags),
    Value: e.Value.length === 0 ? null : toBase64(e.Value),
  };
  if (e.Session) out['Session'] = e.Session;
  return out;
}

export function sessionJson(s: Session): Record<string, unknown> {
  return {
    ID: s.ID,
    Name: s.Name,
    Node: s.Node,
    // Consul ≥1.7: Checks (deprecated) lists every check; NodeChecks / ServiceChecks split them.
    Checks: [...s.Checks, ...s.ServiceChecks],
    NodeChecks: s.Checks,
    ServiceChecks: s.ServiceChecks.length > 0 ? s.ServiceChecks.map((ID) => ({ ID, Namespace: '' })) : null,
    LockDelay: Math.round(s.LockDelayMs * 1e6),
    Behavior: s.Behavior,
    TTL: s.TTLMs > 0 ? formatGoDuration(s.TTLMs) : '',
    CreateIndex: s.CreateIndex,
    ModifyIndex: s.ModifyIndex,
  };
}

export function localServiceJson(s: LocalService): Record<string, unknown> {
  return {
    ID: s.ID,
    Service: s.Service,
    Tags: s.Tags,
    Meta: s.Meta,
    Port: s.Port,
    Address: s.Address,
    EnableTagOverride: s.EnableTagOverride,
    Weights: s.Weights,
  };
}

export function localCheckJson(c: LocalCheck): Record<string, unknown> {
  return {
    Node: c.Node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes,
    Output: c.Output,
    ServiceID: c.ServiceID,
    ServiceName: c.ServiceName,
    ServiceTags: c.ServiceTags,
    Type: c.Type,
  };
}
