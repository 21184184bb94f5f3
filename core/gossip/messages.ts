// core/gossip/messages.ts — the `gossip.*` wire messages (memberlist's and serf's), and a
// size bound for packing compound datagrams.
//
// Owns: message shapes (plain objects tagged by `t`, carried by core/codec) and
// `encodedSizeBound`, an upper bound on a value's size in the wire format.
// Must never: hold behaviour. If core/codec/wire.ts changes its layout, the bound must stay an
// upper bound (test/gossip/messages.test.ts compares it with encodeMessage).
import { utf8Length } from '../codec/utf8.ts';

export type NodeStateKind = 'alive' | 'suspect' | 'dead' | 'left';

/** Direct probe. `node` names the target so a recycled address does not ack for someone else. */
export interface PingMsg { t: 'gossip.ping'; seq: number; node: string }
/** ping-req: probe `node` at ip:port on my behalf; send a nack if it stays silent. */
export interface PingReqMsg { t: 'gossip.pingReq'; seq: number; node: string; ip: string; port: number; nack: boolean }
export interface AckMsg { t: 'gossip.ack'; seq: number }
export interface NackMsg { t: 'gossip.nack'; seq: number }
export interface AliveMsg {
  t: 'gossip.alive';
  inc: number;
  node: string;
  ip: string;
  port: number;
  meta: Record<string, string>;
  vsn: number[];
}
export interface SuspectMsg { t: 'gossip.suspect'; inc: number; node: string; from: string }
/** from === node means the node left gracefully. */
export interface DeadMsg { t: 'gossip.dead'; inc: number; node: string; from: string }
/** Serf intents, Lamport-stamped. */
export interface JoinIntentMsg { t: 'gossip.joinIntent'; ltime: number; node: string }
export interface LeaveIntentMsg { t: 'gossip.leaveIntent'; ltime: number; node: string }
/** A serf user event (serf messageUserEvent); `cc` = may be coalesced. */
export interface UserEventMsg { t: 'gossip.userEvent'; ltime: number; name: string; payload: Uint8Array; cc: boolean }

export interface PushNodeState {
  node: string;
  ip: string;
  port: number;
  meta: Record<string, string>;
  vsn: number[];
  inc: number;
  state: NodeStateKind;
}
/** Serf's part of a push-pull (serf LocalState / MergeRemoteState). */
export interface SerfPushState {
  ltime: number;
  /** [name, statusLTime] pairs. */
  status: [string, number][];
  /** Members whose statusLTime is a leave still in force (leaving or left); the rest are joins. */
  left: string[];
  eventLTime: number;
  queryLTime: number;
  /** serf's recent user events, [ltime, [[name, payload], …]] per Lamport time; absent when none. */
  events?: [number, [string, Uint8Array][]][];
}
export interface PushPullMsg { t: 'gossip.pushPull'; id: number; join: boolean; nodes: PushNodeState[]; serf: SerfPushState }
export interface PushPullReplyMsg { t: 'gossip.pushPullReply'; id: number; join: boolean; nodes: PushNodeState[]; serf: SerfPushState; resent?: boolean }

/** Messages memberlist hands up to serf unread. */
export type SerfMsg = JoinIntentMsg | LeaveIntentMsg | UserEventMsg;
export type BroadcastMsg = AliveMsg | SuspectMsg | DeadMsg | JoinIntentMsg | LeaveIntentMsg | UserEventMsg;
export type PacketMsg = PingMsg | PingReqMsg | AckMsg | NackMsg | BroadcastMsg;
export interface CompoundMsg { t: 'gossip.compound'; parts: PacketMsg[] }

export type GossipMessage = PacketMsg | CompoundMsg | PushPullMsg | PushPullReplyMsg;

export const GOSSIP_MESSAGE_TAGS: readonly string[] = [
  'gossip.ping', 'gossip.pingReq', 'gossip.ack', 'gossip.nack', 'gossip.alive', 'gossip.suspect', 'gossip.dead',
  'gossip.joinIntent', 'gossip.leaveIntent', 'gossip.userEvent', 'gossip.compound', 'gossip.pushPull', 'gossip.pushPullReply',
];

export function isGossipMessage(m: unknown): m is GossipMessage {
  return typeof m === 'object' && m !== null && GOSSIP_MESSAGE_TAGS.includes((m as { t?: unknown }).t as string);
}

/** Upper bound on the encoded size of `v` (tag + varint length ≤ 3 bytes for anything
 *  under 16 KiB, 9 bytes for a number that is not a fixint). */
export function encodedSizeBound(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return Number.isInteger(v) && v >= -32 && v <= 127 ? 1 : 9;
  if (typeof v === 'string') return stringBound(v);
  if (Array.isArray(v)) {
    let n = 3;
    for (const x of v) n += encodedSizeBound(x);
    return n;
  }
  if (v instanceof Uint8Array) return v.length + 9;
  let n = 3;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    n += stringBound(k) - 1 + encodedSizeBound(x);
  }
  return n;
}

function stringBound(s: string): number {
  const len = utf8Length(s);
  return (len < 0 ? s.length * 3 : len) + 3;
}

/** Bytes a compound wrapper adds besides its parts (header, map, key `t`, tag, key `parts`, array). */
export const COMPOUND_OVERHEAD = 2 + 3 + 2 + 18 + 6 + 3;
/** The wire header (magic + version) every datagram carries. */
export const WIRE_HEADER_BYTES = 2;
