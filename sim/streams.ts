// sim/streams.ts — message streams (NetworkPort.listenStream / sendStream) on sim/tcp.ts.
//
// Owns: one connection per (local port, destination), opened on demand and reused while it
// lives; each message is one chunk; the receiver sees the sender as '<sender ip>:<fromPort>'
// so a reply can be addressed to the sender's listening port.
// Must never: report a message as failed once it reached the peer application, or report
// anything after its process died or after closeAll().
//
// The simulator knows exactly which messages arrived, so on failure only the undelivered
// ones get onFailure — a real transport can only guess; callers must tolerate both.
import type { StreamFailureHandler, StreamMessageHandler } from '../core/runtime/ports.ts';
import type { NetCore } from './net-core.ts';
import { connect, listen, type Conn, type ConnOwner } from './tcp.ts';

interface Pending {
  bytes: Uint8Array;
  onFailure: StreamFailureHandler;
}

interface Channel {
  conn: Conn;
  to: string;
  pending: Pending[];
  head: number;
}

export class MessageStreams {
  /** fromPort → destination → channel (nested, so sending builds no key strings). */
  private readonly channels = new Map<number, Map<string, Channel>>();

  constructor(
    private readonly net: NetCore,
    private readonly owner: ConnOwner,
    private readonly host: number,
  ) {}

  listen(port: number, onMessage: StreamMessageHandler): void {
    if (typeof onMessage !== 'function') throw new Error(`listenStream(${port}): handler is not a function`);
    listen(
      this.net,
      {
        owner: this.owner,
        port,
        kind: 'stream',
        onAccept: (c: unknown) => {
          const conn = c as Conn;
          conn.onData = (bytes) => onMessage(conn.remoteAddr, bytes);
        },
      },
      this.host,
    );
  }

  send(fromPort: number, to: string, bytes: Uint8Array, onFailure: StreamFailureHandler): void {
    if (!(bytes instanceof Uint8Array)) throw new Error(`sendStream to ${to}: payload must be a Uint8Array`);
    if (typeof onFailure !== 'function') throw new Error(`sendStream to ${to}: onFailure is not a function`);
    let byTo = this.channels.get(fromPort);
    if (byTo === undefined) {
      byTo = new Map();
      this.channels.set(fromPort, byTo);
    }
    const table = byTo;
    let ch = table.get(to);
    if (ch === undefined || ch.conn.state === 'closed') {
      const conn = connect(this.net, this.owner, this.host, fromPort, to);
      const fresh: Channel = { conn, to, pending: [], head: 0 };
      conn.onDelivered = () => {
        fresh.pending[fresh.head++] = undefined as unknown as Pending;
        if (fresh.head > 32 && fresh.head * 2 > fresh.pending.length) {
          fresh.pending = fresh.pending.slice(fresh.head);
          fresh.head = 0;
        }
      };
      conn.onClose = (reason) => {
        if (table.get(to) === fresh) table.delete(to);
        const failed = fresh.pending.slice(fresh.head);
        fresh.pending = [];
        fresh.head = 0;
        const why = reason === 'closed' ? 'reset' : reason;
        for (const p of failed) p.onFailure(to, why, p.bytes);
      };
      // Replies come back on the peer's own stream to our listening port, not on this one.
      conn.onData = null;
      table.set(to, fresh);
      ch = fresh;
    }
    ch.pending.push({ bytes, onFailure });
    ch.conn.send(bytes);
  }

  /** Drop every channel without reporting (the process is closing its sockets). */
  closeAll(): void {
    const ports = [...this.channels.keys()].sort((a, b) => a - b);
    for (const p of ports) {
      const table = this.channels.get(p)!;
      for (const to of [...table.keys()].sort()) {
        const ch = table.get(to)!;
        ch.conn.onClose = null;
        ch.conn.close();
      }
    }
    this.channels.clear();
  }
}
