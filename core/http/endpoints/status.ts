// core/http/endpoints/status.ts — /v1/status/{leader,peers} and /v1/operator/raft/*.
//
// Owns: mapping status and Raft operator requests to their RPCs and rendering the answers
// (leader as a JSON string, "" when none; peers as a list; the raft configuration as the
// servers shape it: {"Servers": [...], "Index": n}).
// Must never: look at Raft state itself; the servers answer.
import { rpc, type Call } from '../call.ts';
import { BadRequest } from '../params.ts';
import { empty, json } from '../respond.ts';
import type { HttpOutcome } from '../types.ts';

export function statusLeader(call: Call): HttpOutcome {
  return rpc(call, { type: 'statusLeader' }, (v) => json(200, typeof v === 'string' ? v : '', call.pretty));
}

export function statusPeers(call: Call): HttpOutcome {
  return rpc(call, { type: 'statusPeers' }, (v) => json(200, Array.isArray(v) ? v : [], call.pretty));
}

export function raftConfiguration(call: Call): HttpOutcome {
  const consistency = call.params.consistency();
  return rpc(call, { type: 'raftConfiguration', consistency }, (v) => json(200, v, call.pretty));
}

export function raftRemovePeer(call: Call): HttpOutcome {
  const address = call.params.get('address') || call.params.get('id') || '';
  if (!address) throw new BadRequest('Must specify ?address with IP:port of peer to remove');
  if (!/^[^\s:]+:\d{1,5}$/.test(address)) {
    throw new BadRequest(`Invalid peer address ${JSON.stringify(address)}: use ?address=<ip>:<port> (the server RPC port, e.g. 10.0.0.1:8300)`);
  }
  return rpc(call, { type: 'raftRemovePeer', address }, () => empty(200));
}
