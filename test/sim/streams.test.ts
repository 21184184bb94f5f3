import { describe, expect, it } from 'vitest';
import { SimWorld, type CloseReason, type SimConn } from '../../sim/world.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function twoHosts(seed: string, latency = { min: 1, max: 20 }) {
  const w = new SimWorld({ seed, defaultLink: { latencyMs: latency } });
  const a = w.addHost('10.0.0.1', 'a');
  const b = w.addHost('10.0.0.2', 'b');
  return { w, a, b };
}

describe('message streams (ports.net.sendStream)', () => {
  it('deliver in order despite random per-segment latency; sender seen at its fromPort', () => {
    const { w, a, b } = twoHosts('order');
    const got: string[] = [];
    const froms = new Set<string>();
    b.spawn(['server'], (ctx) => ctx.ports.net.listenStream(8300, (from, bytes) => {
      froms.add(from);
      got.push(dec.decode(bytes));
    }));
    const failures: string[] = [];
    a.spawn(['client'], (ctx) => {
      for (let i = 0; i < 500; i++) {
        ctx.ports.timers.set(i % 7, () => ctx.ports.net.sendStream(8300, '10.0.0.2:8300', enc.encode(String(i)), (_to, r) => failures.push(r)));
      }
    });
    w.runFor(2000);
    // Same-time timers fire in set order, so the send order is: all i with i%7==0, then 1, …
    const sent: string[] = [];
    for (let r = 0; r < 7; r++) for (let i = 0; i < 500; i++) if (i % 7 === r) sent.push(String(i));
    expect(got).toEqual(sent);
    expect(failures).toEqual([]);
    expect([...froms]).toEqual(['10.0.0.1:8300']);
    expect(w.net.stats().streamMessagesDelivered).toBe(500);
  });

  it('refused when nothing listens', () => {
    const { w, a } = twoHosts('refused');
    const failures: { to: string; reason: string; text: string }[] = [];
    a.spawn(['client'], (ctx) => {
      ctx.ports.net.sendStream(1, '10.0.0.2:8300', enc.encode('x'), (to, reason, bytes) => failures.push({ to, reason, text: dec.decode(bytes) }));
      ctx.ports.net.sendStream(1, '10.0.0.2:8300', enc.encode('y'), (to, reason, bytes) => failures.push({ to, reason, text: dec.decode(bytes) }));
    });
    w.runFor(100);
    expect(failures).toEqual([
      { to: '10.0.0.2:8300', reason: 'refused', text: 'x' },
      { to: '10.0.0.2:8300', reason: 'refused', text: 'y' },
    ]);
  });

  it('reset when the peer process is killed; reconnects to a new listener afterwards', () => {
    const { w, a, b } = twoHosts('reset', { min: 5, max: 5 });
    const got: string[] = [];
    const server = () => b.spawn(['server'], (ctx) => ctx.ports.net.listenStream(8300, (_f, bytes) => got.push(dec.decode(bytes))));
    const p = server();
    const failures: string[] = [];
    let send!: (t: string) => void;
    a.spawn(['client'], (ctx) => {
      send = (t) => ctx.ports.net.sendStream(1, '10.0.0.2:8300', enc.encode(t), (_to, r, bytes) => failures.push(`${dec.decode(bytes)}:${r}`));
    });
    send('one');
    w.runFor(50);
    p.kill9();
    send('two'); // reaches a dead connection → RST back
    w.runFor(50);
    expect(got).toEqual(['one']);
    expect(failures).toEqual(['two:reset']);
    server();
    send('three');
    w.runFor(50);
    expect(got).toEqual(['one', 'three']);
  });

  it('across a partition: nothing delivered, timeout after 10 s; works again after heal', () => {
    const { w, a, b } = twoHosts('timeout');
    const got: string[] = [];
    b.spawn(['server'], (ctx) => ctx.ports.net.listenStream(8300, (_f, bytes) => got.push(dec.decode(bytes))));
    const failures: { r: string; at: number }[] = [];
    let send!: (t: string) => void;
    a.spawn(['client'], (ctx) => {
      send = (t) => ctx.ports.net.sendStream(1, '10.0.0.2:8300', enc.encode(t), (_to, r) => failures.push({ r, at: w.nowMs() }));
    });
    send('before');
    w.runFor(100);
    w.net.partition([['10.0.0.1'], ['10.0.0.2']]);
    const t0 = w.nowMs();
    send('during');
    w.runFor(9_000);
    expect(failures).toEqual([]);
    w.runFor(2_000);
    expect(failures.length).toBe(1);
    expect(failures[0]!.r).toBe('timeout');
    expect(failures[0]!.at - t0).toBeGreaterThanOrEqual(10_000);
    expect(failures[0]!.at - t0).toBeLessThan(10_100);
    expect(got).toEqual(['before']);
    w.net.heal();
    send('after');
    w.runFor(100);
    expect(got).toEqual(['before', 'after']);
  });

  it('a short partition only delays: data retried and delivered in order after heal', () => {
    const { w, a, b } = twoHosts('blip');
    const got: string[] = [];
    b.spawn(['server'], (ctx) => ctx.ports.net.listenStream(8300, (_f, bytes) => got.push(dec.decode(bytes))));
    const failures: string[] = [];
    let send!: (t: string) => void;
    a.spawn(['client'], (ctx) => {
      send = (t) => ctx.ports.net.sendStream(1, '10.0.0.2:8300', enc.encode(t), (_to, r) => failures.push(r));
    });
    send('0');
    w.runFor(100);
    w.net.isolate('10.0.0.2');
    for (let i = 1; i <= 5; i++) send(String(i));
    w.runFor(3_000);
    expect(got).toEqual(['0']);
    w.net.heal();
    w.runFor(2_000);
    expect(got).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(failures).toEqual([]);
  });
});

describe('low-level connections (ctx.tcp)', () => {
  it('connect, accept, data both ways, graceful close', () => {
    const { w, a, b } = twoHosts('raw');
    const log: string[] = [];
    b.spawn(['echo'], (ctx) => ctx.tcp.listen(7000, (conn) => {
      log.push(`accept from ${conn.remoteAddr}`);
      conn.onData = (bytes) => conn.send(enc.encode(`echo ${dec.decode(bytes)}`));
      conn.onClose = (r) => log.push(`server saw ${r}`);
    }));
    let c!: SimConn;
    a.spawn(['client'], (ctx) => {
      c = ctx.tcp.connect('10.0.0.2:7000');
      c.onOpen = () => {
        log.push('open');
        c.send(enc.encode('hi'));
        c.send(enc.encode('there'));
      };
      c.onData = (bytes) => {
        log.push(dec.decode(bytes));
        if (dec.decode(bytes) === 'echo there') c.close();
      };
    });
    expect(c.state).toBe('connecting');
    w.runFor(500);
    expect(log[0]).toMatch(/^accept from 10\.0\.0\.1:4\d{4}$/);
    expect(log.slice(1)).toEqual(['open', 'echo hi', 'echo there', 'server saw closed']);
    expect(c.state).toBe('closed');
    expect(() => c.send(enc.encode('late'))).toThrow(/closed connection/);
  });

  it('refused, timeout to a down host, and reset/closed on peer death or exit', () => {
    const { w, a, b } = twoHosts('raw2');
    const reasons: Record<string, CloseReason | 'open'> = {};
    let ctxA!: Parameters<Parameters<typeof a.spawn>[1]>[0];
    a.spawn(['client'], (ctx) => (ctxA = ctx));
    const dial = (name: string, to: string) => {
      const c = ctxA.tcp.connect(to);
      c.onOpen = () => (reasons[name] = 'open');
      c.onClose = (r) => (reasons[name] = r);
      return c;
    };
    dial('refused', '10.0.0.2:1');
    w.runFor(100);
    expect(reasons.refused).toBe('refused');

    const killed = b.spawn(['s1'], (ctx) => ctx.tcp.listen(2000, () => {}));
    const exiting = b.spawn(['s2'], (ctx) => ctx.tcp.listen(2001, () => {}));
    dial('killed', '10.0.0.2:2000');
    dial('exited', '10.0.0.2:2001');
    w.runFor(100);
    expect(reasons.killed).toBe('open');
    killed.kill9();
    (exiting as unknown as { ctx: { exit(c: number): void } }).ctx.exit(0);
    w.runFor(100);
    expect(reasons.killed).toBe('reset');
    expect(reasons.exited).toBe('closed');
    expect(exiting.exitCode).toBe(0);

    b.crash();
    dial('down', '10.0.0.2:2000');
    w.runFor(9_900);
    expect(reasons.down).toBeUndefined();
    w.runFor(200);
    expect(reasons.down).toBe('timeout');
  });

  it('a host crash silences connections: the peer learns by timeout', () => {
    const { w, a, b } = twoHosts('crash');
    b.spawn(['s'], (ctx) => ctx.tcp.listen(2000, () => {}));
    let reason: string | undefined;
    let c!: SimConn;
    a.spawn(['c'], (ctx) => {
      c = ctx.tcp.connect('10.0.0.2:2000');
      c.onClose = (r) => (reason = r);
    });
    w.runFor(100);
    expect(c.state).toBe('open');
    b.crash();
    w.runFor(1000);
    expect(reason).toBeUndefined();
    c.send(enc.encode('anyone?'));
    w.runFor(10_100);
    expect(reason).toBe('timeout');
  });
});
