// core/gossip/user-events.ts — serf's user events: the Lamport-indexed recent-event buffer that
// de-duplicates them, the size limits, and the shapes that carry them in push-pull.
//
// Owns: EVENT_BUFFER_SIZE (serf's EventBuffer, 512), USER_EVENT_SIZE_LIMIT (serf's
// UserEventSizeLimit as Consul configures it, 512 bytes), the "too old / already seen" rule of
// serf's handleUserEvent, and the buffer's push-pull form.
// Must never: touch the event clock (serf witnesses and increments it), deliver events (serf
// emits them), or keep more than EVENT_BUFFER_SIZE Lamport slots.
import { utf8Length } from '../codec/utf8.ts';
import { encodedSizeBound, type UserEventMsg } from './messages.ts';

/** serf EventBuffer: how many Lamport times of events are remembered for de-duplication. */
export const EVENT_BUFFER_SIZE = 512;
/** serf UserEventSizeLimit (Consul keeps the default): name + payload, before and after encoding. */
export const USER_EVENT_SIZE_LIMIT = 512;

interface Slot {
  ltime: number;
  events: { name: string; payload: Uint8Array }[];
}

/** Push-pull form: [ltime, [[name, payload], …]] per remembered Lamport time. */
export type PushEvents = [number, [string, Uint8Array][]][];

export type EventVerdict = 'new' | 'seen' | 'old' | 'beforeMin';

export class UserEventBuffer {
  private readonly slots: (Slot | null)[] = new Array<Slot | null>(EVENT_BUFFER_SIZE).fill(null);
  /** Events before this time are ignored: after a restart (snapshot) or a join that ignores old events. */
  minTime = 0;

  /** serf handleUserEvent after the clock witnessed `ltime`; `clockTime` is the clock now.
   *  'new' means: remembered now, deliver and rebroadcast it. */
  admit(ltime: number, name: string, payload: Uint8Array, clockTime: number): EventVerdict {
    if (ltime < this.minTime) return 'beforeMin';
    if (clockTime > EVENT_BUFFER_SIZE && ltime < clockTime - EVENT_BUFFER_SIZE) return 'old';
    const idx = ltime % EVENT_BUFFER_SIZE;
    let slot = this.slots[idx] ?? null;
    if (slot && slot.ltime === ltime) {
      for (const e of slot.events) if (e.name === name && bytesEqual(e.payload, payload)) return 'seen';
    } else {
      slot = { ltime, events: [] };
      this.slots[idx] = slot;
    }
    slot.events.push({ name, payload });
    return 'new';
  }

  /** Every remembered event, by buffer slot (serf sends its whole buffer in push-pull). */
  pushState(): PushEvents {
    const out: PushEvents = [];
    for (const s of this.slots) if (s) out.push([s.ltime, s.events.map((e) => [e.name, e.payload] as [string, Uint8Array])]);
    return out;
  }
}

/** serf UserEvent's checks: a clear error, or null when the event may be sent. */
export function checkUserEventSize(msg: UserEventMsg, limitBytes = USER_EVENT_SIZE_LIMIT): string | null {
  const before = utf8Bytes(msg.name) + msg.payload.length;
  if (before > limitBytes) return `user event exceeds configured limit of ${limitBytes} bytes before encoding`;
  if (encodedSizeBound(msg) > limitBytes + ENCODING_SLACK_BYTES) return `user event exceeds configured limit of ${limitBytes} bytes after encoding`;
  return null;
}

/** Bytes our framing adds over serf's msgpack for the same message (tag and field names). */
const ENCODING_SLACK_BYTES = 64;

function utf8Bytes(s: string): number {
  const n = utf8Length(s);
  return n < 0 ? s.length * 3 : n;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Push-pull events from the wire, keeping only well-formed entries. */
export function readPushEvents(raw: unknown): PushEvents {
  if (!Array.isArray(raw)) return [];
  const out: PushEvents = [];
  for (const slot of raw) {
    if (!Array.isArray(slot) || !Number.isInteger(slot[0]) || !Array.isArray(slot[1])) continue;
    const events: [string, Uint8Array][] = [];
    for (const e of slot[1] as unknown[]) {
      if (Array.isArray(e) && typeof e[0] === 'string' && e[1] instanceof Uint8Array) events.push([e[0], e[1]]);
    }
    out.push([slot[0] as number, events]);
  }
  return out;
}
