// test/gossip/memberlist.test.ts — Memberlist stepped directly, without Serf: it takes its step
// context as a parameter and hands the same context to its delegate.
import { describe, expect, test } from 'vitest';
import { makeRng } from '../../core/rng.ts';
import { resolveGossipConfig } from '../../core/gossip/config.ts';
import type { StepCtx } from '../../core/gossip/context.ts';
import { Memberlist, type MemberlistDelegate, type NodeState } from '../../core/gossip/memberlist.ts';
import type { BaseEffect } from '../../core/machine.ts';
import type { GossipMessage } from '../../core/gossip/messages.ts';

type Eff = BaseEffect<GossipMessage> | { kind: 'seen'; what: string };
type Ctx = StepCtx<Eff>;

function mk(): { ml: Memberlist<Ctx>; step: (nowMs: number, f: (ctx: Ctx) => void) => Eff[] } {
  const delegate: MemberlistDelegate<Ctx> = {
    notifyJoin: (ctx, n: NodeState) => ctx.out.push({ kind: 'seen', what: `join ${n.name}` }),
    notifyLeave: (ctx, n) => ctx.out.push({ kind: 'seen', what: `leave ${n.name}` }),
    notifyUpdate: (ctx, n) => ctx.out.push({ kind: 'seen', what: `update ${n.name}` }),
    notifyMsg: () => {},
    getBroadcasts: () => [],
    localState: () => ({ ltime: 1, status: [], left: [], eventLTime: 1, queryLTime: 1 }),
    mergeRemoteState: () => {},
    pushPullDone: (ctx, token, _addr, error) => ctx.out.push({ kind: 'seen', what: `pp ${token} ${error ?? 'ok'}` }),
  };
  const cfg = resolveGossipConfig({ name: 'n1', ip: '10.0.0.1', port: 8301, tags: {}, profile: 'lan' });
  const ml = new Memberlist<Ctx>(cfg, {}, makeRng('ml-direct'), delegate);
  const step = (nowMs: number, f: (ctx: Ctx) => void): Eff[] => {
    const out: Eff[] = [];
    f({ nowMs, out });
    return out;
  };
  return { ml, step };
}

describe('Memberlist with a context parameter', () => {
  test('start arms the three loops relative to the context time; the delegate writes into the same list', () => {
    const { ml, step } = mk();
    const eff = step(5000, (ctx) => ml.start(ctx));
    const timers = eff.filter((e) => e.kind === 'timer') as { name: string; atMs: number }[];
    expect(timers.map((t) => t.name).sort()).toEqual(['ml.gossip', 'ml.probe', 'ml.pushPull']);
    for (const t of timers) expect(t.atMs).toBeGreaterThanOrEqual(5000);
    const join = step(6000, (ctx) => ml.aliveNode(ctx, { t: 'gossip.alive', inc: 1, node: 'n2', ip: '10.0.0.2', port: 8301, meta: {}, vsn: [1, 5, 2, 2, 5, 4] }, false));
    expect(join).toContainEqual({ kind: 'seen', what: 'join n2' });
    expect(ml.nodes.get('n2')!.stateChangeMs).toBe(6000);
  });

  test('a ping for us is acked in the same step; a push-pull timeout reports through the delegate', () => {
    const { ml, step } = mk();
    step(0, (ctx) => ml.start(ctx));
    const acks = step(10, (ctx) => ml.receive(ctx, '10.0.0.2:8301', 'udp', { t: 'gossip.ping', seq: 7, node: 'n1' }));
    expect(acks).toEqual([{ kind: 'send', fromPort: 8301, to: '10.0.0.2:8301', via: 'udp', msg: { t: 'gossip.ack', seq: 7 } }]);
    const start = step(20, (ctx) => ml.startPushPull(ctx, '10.0.0.3:8301', true, 42));
    const timer = start.find((e) => e.kind === 'timer') as { name: string; atMs: number };
    expect(timer.atMs).toBe(20 + ml.cfg.tcpTimeoutMs);
    const done = step(timer.atMs, (ctx) => ml.onTimer(ctx, timer.name));
    expect(done).toContainEqual({ kind: 'seen', what: 'pp 42 dial tcp 10.0.0.3:8301: i/o timeout' });
  });
});
