// core/gossip/context.ts — the step context every gossip machine (memberlist, serf, and the
// serf sub-machines) receives as a parameter, and the one way they all emit effects.
//
// Owns: StepCtx (the time of this step and the effect list it appends to) and the effect
// helpers shared by memberlist and serf, so both layers write effects alike.
// Must never: keep state between steps; a machine gets a fresh context for every input.
//
// Serf creates one context per step and hands the same object to memberlist, which hands it
// back through the delegate: effects of both layers land in one list in the order they
// happened, which is the order the host carries them out.
import type { BaseEffect, LogLevel, Via } from '../machine.ts';
import type { GossipMessage } from './messages.ts';

/** Appends effects of (at least) kind E. Serf's list also accepts serf-only effects. */
export interface EffectSink<E> {
  push(effect: E): unknown;
}

export interface StepCtx<E = BaseEffect<GossipMessage>> {
  readonly nowMs: number;
  readonly out: EffectSink<E>;
}

type BaseCtx = StepCtx<BaseEffect<GossipMessage>>;

export function armTimer(ctx: BaseCtx, name: string, atMs: number): void {
  ctx.out.push({ kind: 'timer', name, atMs });
}

export function cancelTimer(ctx: BaseCtx, name: string): void {
  ctx.out.push({ kind: 'cancelTimer', name });
}

export function logLine(ctx: BaseCtx, level: LogLevel, source: string, text: string): void {
  ctx.out.push({ kind: 'log', level, source, text });
}

export function sendMsg(ctx: BaseCtx, fromPort: number, to: string, via: Via, msg: GossipMessage): void {
  ctx.out.push({ kind: 'send', fromPort, to, via, msg });
}

export function persistFile(ctx: BaseCtx, path: string, data: Uint8Array, mode: 'replace' | 'append', sync: boolean): void {
  ctx.out.push({ kind: 'persist', path, data, mode, sync });
}
