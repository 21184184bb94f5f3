import { describe, expect, it } from 'vitest';
import { SimWorld, type SimProcessContext } from '../../sim/world.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function receiver(got: { from: string; text: string; at: number }[]) {
  return (ctx: SimProcessContext) => {
    ctx.ports.net.bindDatagram(9000, (from, bytes) => got.push({ from, text: dec.decode(bytes), at: ctx.ports.clock.nowMs() }));
  };
}

describe('datagrams', () => {
  it('deliver with latency inside the link bounds, and report the sender address', () => {
    const w = new SimWorld({ seed: 'lat', defaultLink: { latencyMs: { min: 5, max: 15 } } });
    const a = w.addHost('10.0.0.1');
    const b = w.addHost('10.0.0.2');
    const got: { from: string; text: string; at: number }[] = [];
    b.spawn(['rx'], receiver(got));
    a.spawn(['tx'], (ctx) => {
      for (let i = 0; i < 200; i++) {
        ctx.ports.timers.set(i * 100, () => ctx.ports.net.sendDatagram(7000, '10.0.0.2:9000', enc.encode(`m${i}|${ctx.ports.clock.nowMs()}`)));
      }
    });
    w.runFor(30_000);
    expect(got.length).toBe(200);
    const lats = got.map((g) => g.at - Number(g.text.split('|')[1]));
    expect(Math.min(...lats)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...lats)).toBeLessThanOrEqual(15);
    const mean = lats.reduce((s, x) => s + x, 0) / lats.length;
    expect(mean).toBeGreaterThan(9);
    expect(mean).toBeLessThan(11);
    expect(got[0]!.from).toBe('10.0.0.1:7000');
    const s = w.net.stats();
    expect(s.datagramsSent).toBe(200);
    expect(s.datagramsDelivered).toBe(200);
    expect(w.net.linkCounts().get('10.0.0.1>10.0.0.2')).toBe(200);
  });

  it('loss, duplication and reorder rates are statistically sane with a fixed seed', () => {
    const w = new SimWorld({ seed: 'stats' });
    const a = w.addHost('10.0.0.1');
    const b = w.addHost('10.0.0.2');
    w.net.setLink('10.0.0.1', '10.0.0.2', { loss: 0.2, duplicate: 0.1, reorder: 0.3, latencyMs: { min: 1, max: 2 } });
    const got: { from: string; text: string; at: number }[] = [];
    b.spawn(['rx'], receiver(got));
    const N = 10_000;
    a.spawn(['tx'], (ctx) => {
      for (let i = 0; i < N; i++) ctx.ports.timers.set(i, () => ctx.ports.net.sendDatagram(7000, '10.0.0.2:9000', enc.encode(String(i))));
    });
    w.runFor(N + 100);
    const ids = got.map((g) => Number(g.text));
    const distinct = new Set(ids).size;
    const dups = ids.length - distinct;
    // Loss 0.2 → ~8000 distinct; dup 0.1 of the surviving → ~800 duplicates.
    expect(distinct / N).toBeGreaterThan(0.78);
    expect(distinct / N).toBeLessThan(0.82);
    expect(dups / distinct).toBeGreaterThan(0.085);
    expect(dups / distinct).toBeLessThan(0.115);
    let inversions = 0;
    for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(500);
    const s = w.net.stats();
    expect(s.datagramsSent).toBe(s.datagramsDelivered + s.datagramsDropped);
    // The reverse direction still uses the default (lossless) link.
  });

  it('loopback and own-ip reach the same host; unbound ports and unknown hosts drop', () => {
    const w = new SimWorld({ seed: 'lo' });
    const a = w.addHost('10.0.0.1');
    const got: { from: string; text: string; at: number }[] = [];
    a.spawn(['rx'], receiver(got));
    a.spawn(['tx'], (ctx) => {
      ctx.ports.net.sendDatagram(7000, '127.0.0.1:9000', enc.encode('lo'));
      ctx.ports.net.sendDatagram(7000, '10.0.0.1:9000', enc.encode('own'));
      ctx.ports.net.sendDatagram(7000, '10.0.0.1:9001', enc.encode('unbound'));
      ctx.ports.net.sendDatagram(7000, '10.9.9.9:9000', enc.encode('nohost'));
      expect(() => ctx.ports.net.sendDatagram(7000, '10.0.0.1:9000', new Uint8Array(1401))).toThrow(/1400-byte/);
      expect(() => ctx.ports.net.sendDatagram(7000, 'nonsense', enc.encode('x'))).toThrow(/ip:port/);
    });
    w.runFor(10);
    expect(got.map((g) => `${g.from} ${g.text}`)).toEqual(['127.0.0.1:7000 lo', '10.0.0.1:7000 own']);
    expect(w.net.stats().datagramsDropped).toBe(2);
  });

  it('binding a port twice is an error; a dead process frees its port', () => {
    const w = new SimWorld({ seed: 'bind' });
    const a = w.addHost('10.0.0.1');
    const p = a.spawn(['one'], (ctx) => ctx.ports.net.bindDatagram(9000, () => {}));
    expect(() => a.spawn(['two'], (ctx) => ctx.ports.net.bindDatagram(9000, () => {}))).toThrow(/already in use by pid/);
    p.kill9();
    expect(() => a.spawn(['three'], (ctx) => ctx.ports.net.bindDatagram(9000, () => {}))).not.toThrow();
  });
});

describe('partitions', () => {
  function mesh(n: number) {
    const w = new SimWorld({ seed: 'part' });
    const ips = Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
    const got = new Map<string, Set<string>>();
    for (const ip of ips) {
      got.set(ip, new Set());
      w.addHost(ip).spawn(['node'], (ctx) => {
        ctx.ports.net.bindDatagram(8301, (from) => got.get(ip)!.add(from.split(':')[0]!));
      });
    }
    const sendAll = () => {
      for (const s of got.values()) s.clear();
      for (const h of w.hosts()) {
        const ctx = (h.processes()[0] as unknown as { ctx: SimProcessContext }).ctx;
        for (const ip of ips) if (ip !== h.ip) ctx.ports.net.sendDatagram(8301, `${ip}:8301`, enc.encode('ping'));
      }
      w.runFor(100);
    };
    const heard = (to: string, from: string) => got.get(to)!.has(from);
    return { w, ips, sendAll, heard };
  }

  it('symmetric partition cuts both ways between groups, heal restores', () => {
    const { w, sendAll, heard } = mesh(4);
    w.net.partition([['10.0.0.1', '10.0.0.2'], ['10.0.0.3', '10.0.0.4']]);
    sendAll();
    expect(heard('10.0.0.2', '10.0.0.1')).toBe(true);
    expect(heard('10.0.0.4', '10.0.0.3')).toBe(true);
    expect(heard('10.0.0.3', '10.0.0.1')).toBe(false);
    expect(heard('10.0.0.1', '10.0.0.3')).toBe(false);
    expect(w.net.canReach('10.0.0.1', '10.0.0.4')).toBe(false);
    w.net.heal();
    sendAll();
    expect(heard('10.0.0.3', '10.0.0.1')).toBe(true);
    expect(heard('10.0.0.1', '10.0.0.3')).toBe(true);
  });

  it('one-way partition drops only from→to', () => {
    const { w, sendAll, heard } = mesh(3);
    w.net.partitionOneWay(['10.0.0.1'], ['10.0.0.2']);
    sendAll();
    expect(heard('10.0.0.2', '10.0.0.1')).toBe(false);
    expect(heard('10.0.0.1', '10.0.0.2')).toBe(true);
    expect(heard('10.0.0.3', '10.0.0.1')).toBe(true);
    expect(w.net.canReach('10.0.0.2', '10.0.0.1')).toBe(true);
  });

  it('isolate cuts one host from all others', () => {
    const { w, ips, sendAll, heard } = mesh(4);
    w.net.isolate('10.0.0.3');
    sendAll();
    for (const ip of ips) {
      if (ip === '10.0.0.3') continue;
      expect(heard(ip, '10.0.0.3')).toBe(false);
      expect(heard('10.0.0.3', ip)).toBe(false);
    }
    expect(heard('10.0.0.1', '10.0.0.2')).toBe(true);
    expect(() => w.net.isolate('10.9.9.9')).toThrow(/no host/);
  });

  it('a datagram in flight when a partition starts is dropped', () => {
    const w = new SimWorld({ seed: 'inflight', defaultLink: { latencyMs: { min: 50, max: 50 } } });
    const got: { from: string; text: string; at: number }[] = [];
    w.addHost('10.0.0.2').spawn(['rx'], receiver(got));
    w.addHost('10.0.0.1').spawn(['tx'], (ctx) => ctx.ports.net.sendDatagram(1, '10.0.0.2:9000', enc.encode('x')));
    w.schedule(10, 'cut', () => w.net.isolate('10.0.0.2'));
    w.runFor(100);
    expect(got).toEqual([]);
  });
});
