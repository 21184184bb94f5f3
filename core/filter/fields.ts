// core/filter/fields.ts — which selectors `?filter=` accepts on each kind of record.
//
// Owns: the record schemas of the endpoints Consul filters (nodes, services, checks, the
// catalog's flat ServiceNode rows, health entries), in Consul's field names, so a selector
// that names no field is a 400 before anything runs.
// Must never: hold records or behaviour.

export type FieldType =
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'bool' }
  /** map[string]string: any key selects a string. */
  | { kind: 'map' }
  | { kind: 'list'; of: FieldType }
  | { kind: 'struct'; fields: Schema };

export type Schema = Readonly<Record<string, FieldType>>;

const str: FieldType = { kind: 'string' };
const num: FieldType = { kind: 'number' };
const bool: FieldType = { kind: 'bool' };
const map: FieldType = { kind: 'map' };
const strings: FieldType = { kind: 'list', of: str };
const weights: FieldType = { kind: 'struct', fields: { Passing: num, Warning: num } };

/** /v1/catalog/nodes rows, and the Node of a health entry. */
export const NODE_FIELDS: Schema = { ID: str, Node: str, Address: str, Datacenter: str, TaggedAddresses: map, Meta: map };

/** A service as /v1/catalog/node/:node and /v1/agent/services list it. */
export const SERVICE_FIELDS: Schema = {
  ID: str, Service: str, Tags: strings, Address: str, Meta: map, Port: num, Weights: weights, EnableTagOverride: bool, Kind: str,
};

/** /v1/health/node|checks|state rows, /v1/agent/checks, and a health entry's Checks. */
export const CHECK_FIELDS: Schema = {
  Node: str, CheckID: str, Name: str, Status: str, Notes: str, Output: str, ServiceID: str, ServiceName: str, ServiceTags: strings, Type: str,
};

/** /v1/catalog/service/:name and /v1/catalog/services rows (Consul's ServiceNode). */
export const SERVICE_NODE_FIELDS: Schema = {
  ID: str, Node: str, Address: str, Datacenter: str, TaggedAddresses: map, NodeMeta: map,
  ServiceID: str, ServiceName: str, ServiceTags: strings, ServiceAddress: str, ServiceWeights: weights,
  ServiceMeta: map, ServicePort: num, ServiceEnableTagOverride: bool, ServiceKind: str,
};

/** /v1/health/service/:name entries. */
export const HEALTH_ENTRY_FIELDS: Schema = {
  Node: { kind: 'struct', fields: NODE_FIELDS },
  Service: { kind: 'struct', fields: SERVICE_FIELDS },
  Checks: { kind: 'list', of: { kind: 'struct', fields: CHECK_FIELDS } },
};

export const FILTER_SCHEMAS = {
  node: NODE_FIELDS,
  service: SERVICE_FIELDS,
  check: CHECK_FIELDS,
  serviceNode: SERVICE_NODE_FIELDS,
  healthEntry: HEALTH_ENTRY_FIELDS,
} as const;

export type FilterKind = keyof typeof FILTER_SCHEMAS;
