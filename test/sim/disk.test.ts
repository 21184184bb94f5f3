import { describe, expect, it } from 'vitest';
import { SimDisk, SimWorld } from '../../sim/world.ts';
import { makeRng } from '../../core/rng.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (d: SimDisk, p: string) => d.readText(p);

describe('SimDisk', () => {
  it('synced data survives a crash, unsynced writeAtomic reverts to the old content', () => {
    const d = new SimDisk();
    d.writeAtomic('/data/a', enc.encode('v1'), true);
    d.writeAtomic('/data/a', enc.encode('v2'), false);
    d.writeAtomic('/data/new', enc.encode('n'), false);
    expect(text(d, '/data/a')).toBe('v2');
    d.crash(makeRng('c1'));
    expect(text(d, '/data/a')).toBe('v1');
    expect(d.exists('/data/new')).toBe(false);
    d.writeAtomic('/data/a', enc.encode('v3'), false);
    d.fsync('/data/a');
    d.crash(makeRng('c2'));
    expect(text(d, '/data/a')).toBe('v3');
  });

  it('unsynced appends are lost or torn: what survives is always synced + a strict prefix of the tail', () => {
    let torn = 0;
    let clean = 0;
    for (let i = 0; i < 200; i++) {
      const d = new SimDisk();
      d.append('/wal', enc.encode('AAAA'), true);
      d.append('/wal', enc.encode('BBBB'), false);
      d.append('/wal', enc.encode('CCCC'), false);
      d.crash(makeRng(`torn${i}`));
      const s = text(d, '/wal')!;
      expect('AAAABBBBCCCC'.startsWith(s)).toBe(true);
      expect(s.length).toBeGreaterThanOrEqual(4);
      expect(s.length).toBeLessThan(12);
      if (s.length === 4) clean++;
      else torn++;
    }
    expect(torn).toBeGreaterThan(60);
    expect(clean).toBeGreaterThan(60);
  });

  it('rename is atomic and durable, replaces the target; remove and list', () => {
    const d = new SimDisk();
    d.writeAtomic('/d/raft/peers.json', enc.encode('old'), true);
    d.writeAtomic('/d/raft/peers.json.tmp', enc.encode('new'), true);
    d.rename('/d/raft/peers.json.tmp', '/d/raft/peers.json');
    d.crash(makeRng('r'));
    expect(text(d, '/d/raft/peers.json')).toBe('new');
    expect(d.exists('/d/raft/peers.json.tmp')).toBe(false);
    d.writeText('/d/serf/local.snapshot', 'x');
    expect(d.list('/d')).toEqual(['raft', 'serf']);
    expect(d.list('/d/raft/')).toEqual(['peers.json']);
    expect(d.list('/nope')).toEqual([]);
    expect(d.exists('/d/serf')).toBe(true);
    d.remove('/d/serf/local.snapshot');
    d.remove('/d/serf/local.snapshot');
    expect(d.list('/d')).toEqual(['raft']);
    expect(() => d.rename('/missing', '/x')).toThrow(/no such file/);
    expect(() => d.fsync('/missing')).toThrow(/no such file/);
    expect(() => d.read('')).toThrow(/non-empty/);
  });

  it('reads return copies; writes copy their input', () => {
    const d = new SimDisk();
    const buf = enc.encode('abc');
    d.writeAtomic('/f', buf, true);
    buf[0] = 0x7a;
    const r = d.read('/f')!;
    r[1] = 0x7a;
    expect(text(d, '/f')).toBe('abc');
  });
});

describe('processes and hosts', () => {
  it('kill -9 and restart keep the disk (synced part); restart re-runs the same program', () => {
    const w = new SimWorld({ seed: 'restart' });
    const h = w.addHost('10.0.0.1', 'n1');
    const starts: number[] = [];
    const main = (ctx: Parameters<Parameters<typeof h.spawn>[1]>[0]) => {
      const prev = ctx.ports.disk.read('/data/boots');
      const n = prev ? Number(dec.decode(prev)) + 1 : 1;
      starts.push(n);
      ctx.ports.disk.writeAtomic('/data/boots', enc.encode(String(n)), true);
      ctx.ports.disk.append('/data/log', enc.encode(`boot${n};`), n % 2 === 1);
      ctx.ports.log.line('INFO', 'agent', `boot ${n}`, ctx.ports.clock.nowMs());
    };
    const p1 = h.spawn(['consul', 'agent', '-server'], main);
    expect(p1.output).toEqual(['    2015/07/03 09:18:25 [INFO] agent: boot 1']);
    w.runFor(1000);
    h.crash();
    expect(h.up).toBe(false);
    expect(h.processes()).toEqual([]);
    expect(p1.exited).toBe(true);
    const p2 = h.restart()!;
    expect(p2.argv).toEqual(['consul', 'agent', '-server']);
    expect(p2.pid).not.toBe(p1.pid);
    expect(p2.output[0]).toBe('    2015/07/03 09:18:26 [INFO] agent: boot 2');
    expect(h.restart()).toBeNull(); // still running
    h.crash();
    h.restart();
    expect(starts).toEqual([1, 2, 3]);
    // boot2's append was unsynced: gone or torn, never complete before boot3's synced append.
    const log = h.disk.readText('/data/log')!;
    expect(log.startsWith('boot1;')).toBe(true);
    expect(log.endsWith('boot3;')).toBe(true);
  });

  it('signals: handler runs as an event; default action exits with 128+n', () => {
    const w = new SimWorld({ seed: 'sig' });
    const h = w.addHost('10.0.0.1');
    const seen: string[] = [];
    const handled = h.spawn(['a'], (ctx) => ctx.onSignal((s) => {
      seen.push(s);
      if (s === 'SIGTERM') ctx.exit(0);
    }));
    const plain = h.spawn(['b'], () => {});
    handled.signal('SIGHUP');
    plain.signal('SIGINT');
    expect(seen).toEqual([]); // not re-entrant
    w.runFor(1);
    expect(seen).toEqual(['SIGHUP']);
    expect(plain.exitCode).toBe(130);
    handled.signal('SIGTERM');
    w.runFor(1);
    expect(handled.exitCode).toBe(0);
    expect(h.processes()).toEqual([]);
    expect(() => handled.signal('SIGKILL' as never)).toThrow(/unknown signal/);
  });
});
