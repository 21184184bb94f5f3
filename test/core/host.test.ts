// test/core/host.test.ts — the host loop over a tiny fake world: effect order, named timers,
// decoding, datagram limits, stream failures, and no re-entrant stepping.
import { describe, expect, it } from 'vitest';
import { encodeMessage, wireCodec } from '../../core/codec/index.ts';
import { fx, type BaseEffect, type LogLevel } from '../../core/machine.ts';
import { Host, type HostInput, type HostMachine, type HostOptions } from '../../core/runtime/host.ts';
import type {
  CheckSpec, DatagramHandler, Ports, ProbeResult, StreamFailureHandler, StreamMessageHandler,
} from '../../core/runtime/ports.ts';

/** The shared vocabulary plus machine-specific effects the host must hand to extraEffect. */
type Effect = BaseEffect | { kind: string; [k: string]: unknown };

/** A deterministic fake world that records every port call as a line in `ops`. */
class FakeWorld implements Ports {
  nowMs = 0;
  readonly ops: string[] = [];
  readonly logs: Array<{ level: LogLevel; source: string; text: string; nowMs: number }> = [];
  readonly armed = new Map<number, { atMs: number; fire: () => void }>();
  readonly cancelled = new Map<number, () => void>();
  readonly udp = new Map<number, DatagramHandler>();
  readonly tcp = new Map<number, StreamMessageHandler>();
  readonly streamSends: Array<{ to: string; bytes: Uint8Array; onFailure: StreamFailureHandler }> = [];
  readonly datagrams: Array<{ fromPort: number; to: string; bytes: Uint8Array }> = [];
  /** Optional hook run inside sendDatagram, to model a world that calls back synchronously. */
  onSendDatagram: ((to: string, bytes: Uint8Array) => void) | null = null;
  private nextHandle = 1;

  clock = { nowMs: (): number => this.nowMs };
  timers = {
    set: (atMs: number, fire: () => void): number => {
      const h = this.nextHandle++;
      this.armed.set(h, { atMs, fire });
      this.ops.push(`timer.set #${h} @${atMs}`);
      return h;
    },
    cancel: (h: number): void => {
      const t = this.armed.get(h);
      if (t) this.cancelled.set(h, t.fire);
      this.armed.delete(h);
      this.ops.push(`timer.cancel #${h}`);
    },
  };
  net = {
    ip: '10.0.0.1',
    bindDatagram: (port: number, h: DatagramHandler): void => {
      this.udp.set(port, h);
      this.ops.push(`bind udp ${port}`);
    },
    listenStream: (port: number, h: StreamMessageHandler): void => {
      this.tcp.set(port, h);
      this.ops.push(`listen tcp ${port}`);
    },
    sendDatagram: (fromPort: number, to: string, bytes: Uint8Array): void => {
      this.datagrams.push({ fromPort, to, bytes });
      this.ops.push(`udp ${fromPort}->${to} ${JSON.stringify(wireCodec.decode(bytes))}`);
      this.onSendDatagram?.(to, bytes);
    },
    sendStream: (fromPort: number, to: string, bytes: Uint8Array, onFailure: StreamFailureHandler): void => {
      this.streamSends.push({ to, bytes, onFailure });
      this.ops.push(`tcp ${fromPort}->${to} ${JSON.stringify(wireCodec.decode(bytes))}`);
    },
    closeAll: (): void => {
      this.ops.push('closeAll');
    },
  };
  disk = {
    read: (): Uint8Array | null => null,
    writeAtomic: (path: string, data: Uint8Array, sync: boolean): void => {
      this.ops.push(`writeAtomic ${path} ${new TextDecoder().decode(data)} sync=${sync}`);
    },
    append: (path: string, data: Uint8Array, sync: boolean): void => {
      this.ops.push(`append ${path} ${new TextDecoder().decode(data)} sync=${sync}`);
    },
    remove: (path: string): void => {
      this.ops.push(`remove ${path}`);
    },
    list: (): string[] => [],
    exists: (): boolean => false,
  };
  probes = { run: (_spec: CheckSpec, _done: (r: ProbeResult) => void): void => {} };
  log = {
    line: (level: LogLevel, source: string, text: string, nowMs: number): void => {
      this.logs.push({ level, source, text, nowMs });
      this.ops.push(`log ${level} ${source}: ${text}`);
    },
  };

  /** Fire due timers in time order, advancing the clock to each. */
  advanceTo(t: number): void {
    for (;;) {
      const due = [...this.armed.entries()].filter(([, x]) => x.atMs <= t).sort((a, b) => a[1].atMs - b[1].atMs || a[0] - b[0]);
      if (due.length === 0) break;
      const [h, timer] = due[0]!;
      this.armed.delete(h);
      this.nowMs = timer.atMs;
      timer.fire();
    }
    this.nowMs = t;
  }
}

/** A machine whose replies are scripted per input; records what it was stepped with. */
class ScriptedMachine implements HostMachine<HostInput<unknown>, Effect> {
  readonly inputs: Array<{ nowMs: number; input: HostInput<unknown> }> = [];
  stepping = 0;
  maxStepping = 0;
  constructor(private readonly reply: (input: HostInput<unknown>, nowMs: number) => Effect[] = () => []) {}
  step(nowMs: number, input: HostInput<unknown>): Effect[] {
    this.stepping++;
    this.maxStepping = Math.max(this.maxStepping, this.stepping);
    try {
      this.inputs.push({ nowMs, input });
      return this.reply(input, nowMs);
    } finally {
      this.stepping--;
    }
  }
}

function setup(
  reply?: (input: HostInput<unknown>, nowMs: number) => Effect[],
  opts: Partial<HostOptions<unknown, Effect>> = {},
): { world: FakeWorld; machine: ScriptedMachine; host: Host<unknown, Effect> } {
  const world = new FakeWorld();
  const host = new Host<unknown, Effect>({
    ports: world,
    dataDir: '/data',
    listen: { udp: [8301], tcp: [8300, 8301] },
    codec: wireCodec,
    ...opts,
  });
  const machine = new ScriptedMachine(reply);
  host.start(machine);
  world.ops.length = 0;
  return { world, machine, host };
}

const poke = (name: string): HostInput<unknown> => ({ kind: 'timer', name });
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('host effects', () => {
  it('binds the listen ports before the first input and refuses a second start', () => {
    const world = new FakeWorld();
    const host = new Host<unknown, Effect>({ ports: world, dataDir: '/d', listen: { udp: [1], tcp: [2] }, codec: wireCodec });
    host.start(new ScriptedMachine());
    expect(world.ops).toEqual(['bind udp 1', 'listen tcp 2']);
    expect(host.running).toBe(true);
    expect(() => host.start(new ScriptedMachine())).toThrow(/already started/);
  });

  it('carries out effects in array order: persist (and sync) before send', () => {
    const { world, host, machine } = setup(() => [
      fx.persist('raft/term', bytesOf('3'), 'replace', true),
      fx.persist('raft/log', bytesOf('e1'), 'append', true),
      fx.send(8300, '10.0.0.2:8300', 'tcp', { t: 'raft.vote', term: 3 }),
      { kind: 'removeFile', path: 'raft/old' },
      fx.log('INFO', 'raft', 'voted'),
      fx.send(8301, '10.0.0.3:8301', 'udp', { t: 'ping', seq: 1 }),
    ]);
    world.nowMs = 1234;
    host.deliver(poke('go'));
    expect(machine.inputs).toEqual([{ nowMs: 1234, input: poke('go') }]);
    expect(world.ops).toEqual([
      'writeAtomic /data/raft/term 3 sync=true',
      'append /data/raft/log e1 sync=true',
      'tcp 8300->10.0.0.2:8300 {"ok":true,"msg":{"t":"raft.vote","term":3}}',
      'remove /data/raft/old',
      'log INFO raft: voted',
      'udp 8301->10.0.0.3:8301 {"ok":true,"msg":{"t":"ping","seq":1}}',
    ]);
    expect(world.logs[0]!.nowMs).toBe(1234);
  });

  it('hands machine-specific effects to extraEffect, and logs ERR for unknown kinds', () => {
    const handled: Effect[] = [];
    const { world, host } = setup(() => [{ kind: 'probe', id: 'web' }, { kind: 'mystery' }, fx.log('INFO', 'x', 'after')], {
      extraEffect: (e, h) => {
        if (e.kind !== 'probe') return false;
        handled.push(e);
        expect(h).toBeInstanceOf(Host);
        return true;
      },
    });
    host.deliver(poke('go'));
    expect(handled).toEqual([{ kind: 'probe', id: 'web' }]);
    expect(world.ops).toEqual(["log ERR host: no handler for effect kind 'mystery'", 'log INFO x: after']);
  });

  it('stops carrying out effects once stopped mid-step, and delivers nothing afterwards', () => {
    let host!: Host<unknown, Effect>;
    const ctx = setup((input) => (input.kind === 'timer' && input.name === 'go'
      ? [fx.timer('t', 100), { kind: 'halt' }, fx.log('INFO', 'x', 'never')]
      : [fx.log('INFO', 'x', 'stepped again')]), {
      extraEffect: (e, h) => {
        if (e.kind === 'halt') h.stop();
        return true;
      },
    });
    host = ctx.host;
    host.deliver(poke('go'));
    expect(host.running).toBe(false);
    expect(ctx.world.ops).toEqual(['timer.set #1 @100', 'timer.cancel #1', 'closeAll']);
    host.deliver(poke('late'));
    ctx.world.cancelled.get(1)!(); // a world that fires a cancelled timer anyway
    ctx.world.udp.get(8301)!('10.0.0.9:1', encodeMessage({ t: 'x' }));
    expect(ctx.machine.inputs.length).toBe(1);
  });
});

describe('host timers', () => {
  it('re-arming a name replaces the timer; it fires once, at the new time', () => {
    const { world, host, machine } = setup((input) =>
      input.kind === 'timer' && input.name === 'arm' ? [fx.timer('election', 150)]
        : input.kind === 'timer' && input.name === 'rearm' ? [fx.timer('election', 300)] : []);
    host.deliver(poke('arm'));
    host.deliver(poke('rearm'));
    expect(world.ops).toEqual(['timer.set #1 @150', 'timer.cancel #1', 'timer.set #2 @300']);
    world.advanceTo(299);
    expect(machine.inputs.length).toBe(2);
    world.advanceTo(1000);
    expect(machine.inputs.slice(2)).toEqual([{ nowMs: 300, input: { kind: 'timer', name: 'election' } }]);
  });

  it('cancelTimer cancels by name; other names are untouched; unknown names are a no-op', () => {
    const { world, host, machine } = setup((input) => {
      if (input.kind !== 'timer') return [];
      if (input.name === 'arm') return [fx.timer('heartbeat', 50), fx.timer('probe', 60)];
      if (input.name === 'cancel') return [fx.cancelTimer('heartbeat'), fx.cancelTimer('nothing-armed')];
      return [];
    });
    host.deliver(poke('arm'));
    host.deliver(poke('cancel'));
    world.advanceTo(100);
    expect(machine.inputs.map((i) => i.input)).toEqual([poke('arm'), poke('cancel'), poke('probe')]);
    expect(world.ops).toContain('timer.cancel #1');
  });

  it('a stale callback of a replaced timer does not step the machine', () => {
    const { world, host, machine } = setup((input) =>
      input.kind === 'timer' && (input.name === 'a' || input.name === 'b') ? [fx.timer('t', input.name === 'a' ? 10 : 20)] : []);
    host.deliver(poke('a'));
    host.deliver(poke('b'));
    world.cancelled.get(1)!(); // the real world can race a cancel with a firing
    expect(machine.inputs.length).toBe(2);
    world.advanceTo(20);
    expect(machine.inputs.map((i) => i.input)).toEqual([poke('a'), poke('b'), poke('t')]);
  });

  it('a timer re-armed from its own firing keeps going', () => {
    const { world, host, machine } = setup((input, now) =>
      input.kind === 'timer' ? [fx.timer('tick', (input.name === 'start' ? 0 : now) + 200)] : []);
    host.deliver(poke('start'));
    world.advanceTo(1000);
    expect(machine.inputs.slice(1).map((i) => i.nowMs)).toEqual([200, 400, 600, 800, 1000]);
  });

  it('stop() cancels every armed timer and closes the sockets', () => {
    const { world, host } = setup(() => [fx.timer('a', 10), fx.timer('b', 20)]);
    host.deliver(poke('go'));
    host.stop();
    host.stop();
    expect(world.armed.size).toBe(0);
    expect(world.ops.filter((o) => o === 'closeAll')).toEqual(['closeAll']);
  });
});

describe('host receive path', () => {
  it('decodes bytes into a receive input with sender, port and transport', () => {
    const { world, machine } = setup();
    world.udp.get(8301)!('10.0.0.7:8301', encodeMessage({ t: 'gossip.ping', seq: 9 }));
    world.tcp.get(8300)!('10.0.0.8:40000', encodeMessage({ t: 'rpc', b: new Uint8Array([1]) }));
    expect(machine.inputs.map((i) => i.input)).toEqual([
      { kind: 'receive', from: '10.0.0.7:8301', port: 8301, via: 'udp', msg: { t: 'gossip.ping', seq: 9 } },
      { kind: 'receive', from: '10.0.0.8:40000', port: 8300, via: 'tcp', msg: { t: 'rpc', b: new Uint8Array([1]) } },
    ]);
  });

  it('drops malformed bytes with a WARN line naming the sender and the error, without throwing', () => {
    const { world, machine } = setup();
    const valid = encodeMessage({ t: 'x', n: 1000 });
    expect(() => {
      world.udp.get(8301)!('10.0.0.9:1', bytesOf('{"t":"json"}'));
      world.tcp.get(8301)!('10.0.0.9:2', valid.subarray(0, valid.length - 1));
      world.udp.get(8301)!('10.0.0.9:3', new Uint8Array(0));
    }).not.toThrow();
    expect(machine.inputs).toEqual([]);
    expect(world.logs.map((l) => [l.level, l.source])).toEqual([['WARN', 'host'], ['WARN', 'host'], ['WARN', 'host']]);
    expect(world.logs[0]!.text).toMatch(/dropping malformed udp message from 10\.0\.0\.9:1: bad-magic: /);
    expect(world.logs[1]!.text).toMatch(/malformed tcp message from 10\.0\.0\.9:2: truncated/);
  });
});

describe('host send limits and stream failures', () => {
  it('drops an oversize datagram with an ERR line; the same message goes fine over tcp', () => {
    const big = { t: 'push', blob: new Uint8Array(2000) };
    const { world, host } = setup(() => [
      fx.send(8301, '10.0.0.2:8301', 'udp', big),
      fx.send(8301, '10.0.0.2:8301', 'tcp', big),
      fx.send(8301, '10.0.0.2:8301', 'udp', { t: 'small' }),
    ]);
    host.deliver(poke('go'));
    expect(world.logs.map((l) => l.level)).toEqual(['ERR']);
    expect(world.logs[0]!.text).toMatch(/datagram to 10\.0\.0\.2:8301 is 20\d\d bytes, over the 1400-byte limit; dropped/);
    expect(world.datagrams.map((d) => d.bytes.length)).toEqual([encodeMessage({ t: 'small' }).length]);
    expect(world.streamSends.length).toBe(1);
  });

  it('honours maxDatagramBytes exactly at the boundary', () => {
    const msg = { t: 'x', pad: 'y'.repeat(40) };
    const size = encodeMessage(msg).length;
    const at = setup(() => [fx.send(1, '10.0.0.2:1', 'udp', msg)], { maxDatagramBytes: size });
    at.host.deliver(poke('go'));
    expect(at.world.datagrams.length).toBe(1);
    const over = setup(() => [fx.send(1, '10.0.0.2:1', 'udp', msg)], { maxDatagramBytes: size - 1 });
    over.host.deliver(poke('go'));
    expect(over.world.datagrams.length).toBe(0);
    expect(over.world.logs[0]!.level).toBe('ERR');
  });

  it('a stream failure comes back as an unreachable input carrying the original message', () => {
    const msg = { t: 'raft.append', term: 4 };
    const { world, host, machine } = setup((input) => (input.kind === 'timer' ? [fx.send(8300, '10.0.0.2:8300', 'tcp', msg)] : []));
    host.deliver(poke('go'));
    const sent = world.streamSends[0]!;
    world.nowMs = 77;
    sent.onFailure('10.0.0.2:8300', 'refused', sent.bytes);
    expect(machine.inputs[1]).toEqual({
      nowMs: 77,
      input: { kind: 'unreachable', to: '10.0.0.2:8300', via: 'tcp', reason: 'refused', msg },
    });
  });
});

describe('host never steps the machine re-entrantly', () => {
  it('inputs arriving while effects run are queued and stepped afterwards, in order', () => {
    const { world, host, machine } = setup((input) => {
      if (input.kind === 'timer' && input.name === 'go') {
        return [
          fx.send(8301, '10.0.0.1:8301', 'udp', { t: 'self', n: 1 }),
          fx.send(8301, '10.0.0.1:8301', 'udp', { t: 'self', n: 2 }),
          fx.log('INFO', 'm', 'end of first step'),
        ];
      }
      if (input.kind === 'receive') return [fx.log('INFO', 'm', `got ${(input.msg as { n: number }).n}`)];
      return [];
    });
    // A loopback world that delivers synchronously from inside sendDatagram.
    world.onSendDatagram = (_to, bytes) => world.udp.get(8301)!('10.0.0.1:8301', bytes);
    host.deliver(poke('go'));
    expect(machine.maxStepping).toBe(1);
    expect(world.ops.filter((o) => o.startsWith('log'))).toEqual([
      'log INFO m: end of first step',
      'log INFO m: got 1',
      'log INFO m: got 2',
    ]);
    expect(machine.inputs.map((i) => i.input.kind)).toEqual(['timer', 'receive', 'receive']);
  });

  it('a stream failure reported synchronously from sendStream is queued too', () => {
    const { world, host, machine } = setup((input) =>
      input.kind === 'timer' ? [fx.send(8300, '10.0.0.2:8300', 'tcp', { t: 'x' }), fx.log('INFO', 'm', 'after send')] : []);
    const original = world.net.sendStream;
    world.net.sendStream = (fromPort, to, bytes, onFailure) => {
      original(fromPort, to, bytes, onFailure);
      onFailure(to, 'reset', bytes);
    };
    host.deliver(poke('go'));
    expect(machine.maxStepping).toBe(1);
    expect(machine.inputs.map((i) => i.input.kind)).toEqual(['timer', 'unreachable']);
    expect(world.ops.indexOf('log INFO m: after send')).toBeGreaterThan(-1);
  });

  it('an input delivered from inside step() itself is queued, not nested', () => {
    let host!: Host<unknown, Effect>;
    const ctx = setup((input) => {
      if (input.kind === 'timer' && input.name === 'outer') host.deliver(poke('inner'));
      return [fx.log('INFO', 'm', `done ${input.kind === 'timer' ? input.name : input.kind}`)];
    });
    host = ctx.host;
    host.deliver(poke('outer'));
    expect(ctx.machine.maxStepping).toBe(1);
    expect(ctx.world.ops).toEqual(['log INFO m: done outer', 'log INFO m: done inner']);
  });
});

describe('host after a machine error', () => {
  it('propagates the error to the caller and keeps working for later inputs', () => {
    const { world, host, machine } = setup((input) => {
      if (input.kind === 'timer' && input.name === 'boom') throw new Error('machine bug');
      return [fx.log('INFO', 'm', 'fine')];
    });
    expect(() => host.deliver(poke('boom'))).toThrow('machine bug');
    host.deliver(poke('next'));
    expect(machine.inputs.map((i) => i.input)).toEqual([poke('boom'), poke('next')]);
    expect(world.ops).toEqual(['log INFO m: fine']);
  });
});
