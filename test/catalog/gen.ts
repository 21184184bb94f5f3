// test/catalog/gen.ts — fast-check generators of catalog command sequences over a small
// world (3 nodes, 2 services, a few keys and session IDs) so commands collide often.
import fc from 'fast-check';
import type { Command } from '../../core/catalog/commands.ts';
import type { Cmd } from './harness.ts';

const node = fc.constantFrom('n1', 'n2', 'n3');
const key = fc.constantFrom('a', 'a/b', 'a/c', 'a/c/d', 'b', 'b/x');
const prefix = fc.constantFrom('', 'a', 'a/', 'a/c/', 'b');
const session = fc.constantFrom('s1', 's2', 's3', 's4');
const status = fc.constantFrom('passing' as const, 'warning' as const, 'critical' as const);
const value = fc.uint8Array({ maxLength: 4 });
const flags = fc.option(fc.nat(3), { nil: undefined });
const idx = fc.nat(40);

const register: fc.Arbitrary<Cmd> = fc
  .record({
    node,
    addr: fc.constantFrom('10.0.0.1', '10.0.0.2'),
    svc: fc.option(fc.record({ Service: fc.constantFrom('web', 'db'), Tags: fc.subarray(['v1', 'v2']), Port: fc.constantFrom(80, 81) }), { nil: undefined }),
    serf: fc.option(status, { nil: undefined }),
    svcCheck: fc.option(status, { nil: undefined }),
  })
  .map(({ node, addr, svc, serf, svcCheck }) => {
    const checks = [];
    if (serf) checks.push({ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: serf });
    if (svcCheck) checks.push({ CheckID: 'service:web', Name: "Service 'web' check", Status: svcCheck, ServiceID: 'web' });
    return { op: 'register', node: { Node: node, Address: addr }, ...(svc ? { service: svc } : {}), ...(checks.length ? { checks } : {}) } as Cmd;
  });

export const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: register, weight: 4 },
  fc.record({ op: fc.constant('deregister' as const), node, serviceId: fc.option(fc.constantFrom('web', 'db'), { nil: undefined }), checkId: fc.option(fc.constantFrom('serfHealth', 'service:web'), { nil: undefined }) }),
  fc.record({ op: fc.constant('updateCheckStatus' as const), node, checkId: fc.constantFrom('serfHealth', 'service:web'), status }),
  { arbitrary: fc.record({ op: fc.constant('kvSet' as const), key, value, flags }), weight: 2 },
  fc.record({ op: fc.constant('kvCas' as const), key, value, flags, casIndex: idx }),
  fc.record({ op: fc.constant('kvDelete' as const), key, recurse: fc.option(fc.boolean(), { nil: undefined }), casIndex: fc.option(idx, { nil: undefined }) }),
  fc.record({ op: fc.constant('kvDeleteTree' as const), prefix }),
  { arbitrary: fc.record({ op: fc.constant('kvLock' as const), key, value, flags, session }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('kvUnlock' as const), key, value, flags, session }), weight: 2 },
  fc.record({ op: fc.constant('kvReapTombstones' as const), upToIndex: idx }),
  {
    arbitrary: fc.record({
      op: fc.constant('sessionCreate' as const),
      id: session,
      node,
      checks: fc.option(fc.subarray(['serfHealth', 'service:web']), { nil: undefined }),
      behavior: fc.option(fc.constantFrom('release', 'delete'), { nil: undefined }),
      lockDelayMs: fc.option(fc.constantFrom(0, 1_000, 5_000), { nil: undefined }),
      ttlMs: fc.option(fc.constantFrom(0, 10_000, 5_000), { nil: undefined }),
    }),
    weight: 3,
  },
  fc.record({ op: fc.constant('sessionDestroy' as const), id: session }),
  fc.record({ op: fc.constant('sessionInvalidate' as const), id: session, reason: fc.constant('ttl' as const) }),
);

/** Commands stamped with a non-decreasing proposer clock. */
export const historyArb: fc.Arbitrary<Command[]> = fc
  .array(fc.tuple(commandArb, fc.nat(2_000)), { minLength: 1, maxLength: 60 })
  .map((steps) => {
    let nowMs = 1_000_000;
    return steps.map(([c, dt]) => {
      nowMs += dt;
      // Drop keys fast-check left undefined so commands look like decoded log entries.
      return JSON.parse(JSON.stringify({ ...c, nowMs }, (k, v) => (v instanceof Uint8Array ? { __bytes: [...v] } : v)), (k, v) =>
        v && typeof v === 'object' && '__bytes' in v ? new Uint8Array(v.__bytes) : v,
      ) as Command;
    });
  });
