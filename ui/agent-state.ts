// ui/agent-state.ts — what the UI currently believes about its agent: is there a cluster
// leader, and can the agent be reached at all. Drives the banners.
//
// Owns: one tiny store (subscribe/getSnapshot for useSyncExternalStore) fed by every API
// answer. Must never: fetch by itself.
import { useSyncExternalStore } from 'react';

export interface AgentState {
  /** The last word from the agent was "No cluster leader" (500) or an empty /v1/status/leader. */
  noLeader: boolean;
  /** Set while requests fail at the network level (agent down, wrong address). */
  unreachable: string | null;
}

let state: AgentState = { noLeader: false, unreachable: null };
const listeners = new Set<() => void>();

function set(next: Partial<AgentState>): void {
  const merged = { ...state, ...next };
  if (merged.noLeader === state.noLeader && merged.unreachable === state.unreachable) return;
  state = merged;
  for (const l of listeners) l();
}

export const reportNoLeader = (): void => set({ noLeader: true, unreachable: null });
export const reportLeaderKnown = (): void => set({ noLeader: false });
export const reportReachable = (): void => set({ unreachable: null });
export const reportUnreachable = (why: string): void => set({ unreachable: why });

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useAgentState(): AgentState {
  return useSyncExternalStore(subscribe, () => state);
}
