// core/agent/wire.ts — agent-to-server RPC messages on the wire.
//
// Owns: the envelope for Consul's server RPC (forwarded reads/writes, DNS forwarding).
// Must never: hold behaviour. Raft and gossip messages have their own tags ('raft.*',
// 'gossip.*'); these are 'rpc.*'. Servers listen on the server port (8300); clients
// receive replies on their LAN gossip port (8301), which they already listen on.
import type { RpcRequest, RpcResponse } from '../rpc/types.ts';

export type AgentRpcRequest = RpcRequest | { type: 'dns'; bytes: Uint8Array; transport: 'udp' | 'tcp' };

export interface RpcRequestMessage {
  t: 'rpc.req';
  id: number;
  /** Port on the sender the reply goes to. */
  replyPort: number;
  /** Hops taken so far; forwarding stops at 2 to avoid loops between confused servers. */
  hops: number;
  req: AgentRpcRequest;
}

export interface RpcResponseMessage {
  t: 'rpc.res';
  id: number;
  res: RpcResponse;
}

export type AgentRpcMessage = RpcRequestMessage | RpcResponseMessage;

export function isRpcMessage(msg: unknown): msg is AgentRpcMessage {
  const t = (msg as { t?: unknown } | null)?.t;
  return t === 'rpc.req' || t === 'rpc.res';
}
