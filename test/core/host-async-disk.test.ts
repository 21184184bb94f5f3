// test/core/host-async-disk.test.ts — the host over a disk whose writes complete later
// (DiskPort.submit, real mode): persist-before-send, inputs held during a write and stepped as
// one group afterwards, readOnly inputs answered while a write is in flight, disk errors.
import { describe, expect, it } from 'vitest';
import { wireCodec } from '../../core/codec/index.ts';
import { fx, type BaseEffect } from '../../core/machine.ts';
import { Host, type HostOptions } from '../../core/runtime/host.ts';
import type { DiskWrite, Ports } from '../../core/runtime/ports.ts';

type Effect = BaseEffect | { kind: 'reply'; text: string };
type Input = { kind: 'put'; key: string } | { kind: 'get'; key: string } | { kind: 'getAndWrite'; key: string } | { kind: 'timer'; name: string };

/** Records every port call in `ops`; submitted writes wait in `writes` until `complete()`. */
function world(opts: { inline?: boolean } = {}) {
  const ops: string[] = [];
  const writes: { w: DiskWrite; done: (err: Error | null) => void }[] = [];
  const timers = new Map<number, () => void>();
  let handle = 0;
  const ports: Ports = {
    clock: { nowMs: () => 0 },
    timers: {
      set: (_at, fire) => {
        timers.set(++handle, fire);
        ops.push(`timer #${handle}`);
        return handle;
      },
      cancel: (h) => void timers.delete(h),
    },
    net: {
      ip: '10.0.0.1',
      bindDatagram: () => {},
      listenStream: () => {},
      sendDatagram: () => {},
      sendStream: (_from, to, bytes) => {
        const d = wireCodec.decode(bytes);
        ops.push(`send ${to} ${JSON.stringify(d.ok ? d.msg : null)}`);
      },
      closeAll: () => ops.push('closeAll'),
    },
    disk: {
      read: () => null,
      writeAtomic: () => ops.push('SYNC writeAtomic'),
      append: () => ops.push('SYNC append'),
      remove: () => ops.push('SYNC remove'),
      list: () => [],
      exists: () => false,
      submit: (w, done) => {
        ops.push(`submit ${w.op} ${w.path}${'data' in w ? ` ${new TextDecoder().decode(w.data)}` : ''}`);
        if (opts.inline) done(null);
        else writes.push({ w, done });
      },
    },
    probes: { run: () => {} },
    log: { line: (level, source, text) => ops.push(`log ${level} ${source}: ${text}`) },
  };
  /** Complete the oldest `n` writes (all by default). */
  const complete = (n = writes.length, err: Error | null = null): void => {
    for (const { w, done } of writes.splice(0, n)) {
      ops.push(`done ${w.op} ${w.path}`);
      done(err);
    }
  };
  return { ops, writes, ports, complete };
}

/** A tiny KV: a put appends to the log then acknowledges; a get answers from memory. */
function kvHost(ports: Ports, extra: Partial<HostOptions<unknown, Effect>> = {}) {
  const data = new Map<string, number>();
  const stepped: string[] = [];
  const host = new Host<unknown, Effect>({
    ports,
    dataDir: '/d',
    listen: { udp: [], tcp: [] },
    codec: wireCodec,
    readOnly: (i) => (i as Input).kind === 'get' || (i as Input).kind === 'getAndWrite',
    extraEffect: (e) => {
      if (e.kind !== 'reply') return false;
      ports.log.line('INFO', 'reply', (e as { text: string }).text, 0);
      return true;
    },
    ...extra,
  });
  host.start({
    step: (_now, input: Input): Effect[] => {
      stepped.push(`${input.kind} ${'key' in input ? input.key : input.name}`);
      if (input.kind === 'put') {
        data.set(input.key, (data.get(input.key) ?? 0) + 1);
        return [
          fx.send(8300, '10.0.0.2:8300', 'tcp', { t: 'append', key: input.key }),
          fx.persist('log', new TextEncoder().encode(input.key), 'append', true),
          fx.log('INFO', 'kv', `wrote ${input.key}`),
          fx.send(8300, '10.0.0.2:8300', 'tcp', { t: 'ack', key: input.key }),
          { kind: 'reply', text: `put ${input.key} ok` },
        ];
      }
      if (input.kind === 'getAndWrite') {
        return [fx.persist('state', new TextEncoder().encode('x'), 'replace', true), { kind: 'reply', text: `got ${input.key} after own write` }];
      }
      if (input.kind === 'get') return [{ kind: 'reply', text: `${input.key}=${data.get(input.key) ?? 0}` }];
      return [fx.timer('again', 5)];
    },
  });
  return { host, stepped };
}

describe('host with a disk that completes later', () => {
  it('holds every effect that leaves the process until the write before it is done; timers and logs are not held', () => {
    const w = world();
    const { host } = kvHost(w.ports);
    host.deliver({ kind: 'put', key: 'a' });
    expect(w.ops).toEqual(['send 10.0.0.2:8300 {"t":"append","key":"a"}', 'submit append /d/log a', 'log INFO kv: wrote a']);
    expect(host.writing).toBe(true);
    w.complete();
    expect(w.ops.slice(3)).toEqual(['done append /d/log', 'send 10.0.0.2:8300 {"t":"ack","key":"a"}', 'log INFO reply: put a ok']);
    expect(host.writing).toBe(false);
  });

  it('steps inputs that arrive during a write only after it, as one group whose writes are submitted together', () => {
    const w = world();
    const { host, stepped } = kvHost(w.ports);
    host.deliver({ kind: 'put', key: 'a' });
    host.deliver({ kind: 'put', key: 'b' });
    host.deliver({ kind: 'timer', name: 't' });
    host.deliver({ kind: 'put', key: 'c' });
    expect(stepped).toEqual(['put a']);
    w.ops.length = 0;
    w.complete();
    expect(stepped).toEqual(['put a', 'put b', 'timer t', 'put c']);
    // b's and c's writes are both in flight before either completes (one group for the disk),
    // and neither ack leaves before its own write is done.
    expect(w.writes.map((x) => x.w.path)).toEqual(['/d/log', '/d/log']);
    expect(w.ops.filter((o) => o.startsWith('send') && o.includes('"ack"'))).toEqual(['send 10.0.0.2:8300 {"t":"ack","key":"a"}']);
    w.complete(1);
    expect(w.ops.filter((o) => o.includes('"ack"'))).toEqual(['send 10.0.0.2:8300 {"t":"ack","key":"a"}', 'send 10.0.0.2:8300 {"t":"ack","key":"b"}']);
    w.complete(1);
    expect(w.ops.filter((o) => o.includes('"ack"')).length).toBe(3);
  });

  it('answers a readOnly input while a write is in flight, from the state the last group left', () => {
    const w = world();
    const { host, stepped } = kvHost(w.ports);
    host.deliver({ kind: 'put', key: 'a' });
    w.complete();
    host.deliver({ kind: 'put', key: 'a' });
    host.deliver({ kind: 'put', key: 'b' }); // waits for the write of the second put a
    w.ops.length = 0;
    host.deliver({ kind: 'get', key: 'a' });
    expect(w.ops).toEqual(['log INFO reply: a=2']);
    expect(stepped).toEqual(['put a', 'put a', 'get a']);
    expect(w.writes.length).toBe(1);
  });

  it('a readOnly input that writes waits for its own write', () => {
    const w = world();
    const { host } = kvHost(w.ports);
    host.deliver({ kind: 'put', key: 'a' });
    w.ops.length = 0;
    host.deliver({ kind: 'getAndWrite', key: 'a' });
    expect(w.ops).toEqual(['submit replace /d/state x']);
    w.complete(1);
    expect(w.ops.includes('log INFO reply: got a after own write')).toBe(false);
    w.complete(1);
    expect(w.ops.slice(-1)).toEqual(['log INFO reply: got a after own write']);
  });

  it('without a readOnly option every input waits for the write', () => {
    const w = world();
    const { host, stepped } = kvHost(w.ports, { readOnly: undefined });
    host.deliver({ kind: 'put', key: 'a' });
    host.deliver({ kind: 'get', key: 'a' });
    expect(stepped).toEqual(['put a']);
    w.complete();
    expect(stepped).toEqual(['put a', 'get a']);
    expect(w.ops.slice(-1)).toEqual(['log INFO reply: a=1']);
  });

  it('a disk that completes inside submit gives the synchronous order', () => {
    const w = world({ inline: true });
    const { host } = kvHost(w.ports);
    host.deliver({ kind: 'put', key: 'a' });
    host.deliver({ kind: 'get', key: 'a' });
    expect(w.ops).toEqual([
      'send 10.0.0.2:8300 {"t":"append","key":"a"}',
      'submit append /d/log a',
      'log INFO kv: wrote a',
      'send 10.0.0.2:8300 {"t":"ack","key":"a"}',
      'log INFO reply: put a ok',
      'log INFO reply: a=1',
    ]);
  });

  it('a failed write stops the host with an ERR line; nothing held goes out', () => {
    const w = world();
    const errors: string[] = [];
    const { host, stepped } = kvHost(w.ports, { onDiskError: (e) => errors.push(e.message) });
    host.deliver({ kind: 'put', key: 'a' });
    host.deliver({ kind: 'put', key: 'b' });
    w.complete(1, new Error('cannot append to /d/log: no space left on device (ENOSPC)'));
    expect(errors).toEqual(['cannot append to /d/log: no space left on device (ENOSPC)']);
    expect(w.ops).toContain('log ERR host: cannot append to /d/log: no space left on device (ENOSPC); stopping, as later effects could no longer wait for their writes');
    expect(w.ops.some((o) => o.includes('"ack"') || o.includes('reply'))).toBe(false);
    expect(host.running).toBe(false);
    host.deliver({ kind: 'put', key: 'c' });
    expect(stepped).toEqual(['put a']);
  });
});
