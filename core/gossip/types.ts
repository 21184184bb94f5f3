// core/gossip/types.ts — the agent-facing vocabulary of a gossip pool: members, inputs, effects.
//
// Owns: Member / MemberStatus (serf's view), GossipInput and GossipEffect.
// Must never: hold behaviour.
import type { BaseEffect, ReceiveInput, TimerInput, UnreachableInput } from '../machine.ts';
import type { GossipMessage } from './messages.ts';

export type MemberStatus = 'alive' | 'leaving' | 'left' | 'failed';

export interface Member {
  name: string;
  /** ip only; the gossip port is `port`. */
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: MemberStatus;
  protocolMin: number;
  protocolMax: number;
  protocolCur: number;
  delegateMin: number;
  delegateMax: number;
  delegateCur: number;
}

export type GossipInput =
  | TimerInput
  | ReceiveInput<GossipMessage>
  | UnreachableInput<GossipMessage>
  /** Begin probing (and rejoin from the snapshot if allowed). */
  | { kind: 'start' }
  /** addrs are 'ip' or 'ip:port' (default port: the pool's). */
  | { kind: 'join'; reqId: number; addrs: string[] }
  | { kind: 'leave'; reqId: number }
  | { kind: 'setTags'; tags: Record<string, string> }
  | { kind: 'forceLeave'; node: string }
  /** serf UserEvent: answered by a userEventResult with the same reqId. */
  | { kind: 'userEvent'; reqId: number; name: string; payload: Uint8Array; coalesce: boolean };

export type MemberEventType = 'join' | 'leave' | 'failed' | 'update' | 'reap';

export type GossipEffect =
  | BaseEffect<GossipMessage>
  | { kind: 'joinResult'; reqId: number; contacted: number; errors: string[] }
  | { kind: 'leaveDone'; reqId: number }
  | { kind: 'memberEvent'; type: MemberEventType; member: Member }
  | { kind: 'userEventResult'; reqId: number; error: string | null }
  /** A user event seen for the first time (fired here or heard through gossip). */
  | { kind: 'userEvent'; ltime: number; name: string; payload: Uint8Array; coalesce: boolean };
