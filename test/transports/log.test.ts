// test/transports/log.test.ts — RealLog line format and level filter.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLocalLogLine, parseLogLevel, RealLog } from '../../transports/log.ts';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('RealLog', () => {
  it("formats Consul's line shape in local time", () => {
    const at = new Date(2015, 6, 3, 9, 18, 25, 700).getTime(); // local 2015-07-03 09:18:25.7
    expect(formatLocalLogLine('INFO', 'raft', 'Node at 10.10.126.101:8300 [Leader] entering Leader state', at)).toBe(
      '    2015/07/03 09:18:25 [INFO] raft: Node at 10.10.126.101:8300 [Leader] entering Leader state',
    );
    expect(formatLocalLogLine('ERR', '', 'bare', at)).toBe('    2015/07/03 09:18:25 [ERR] bare');
  });

  it('drops lines below the level and writes the rest in order', () => {
    const out = capture();
    const log = new RealLog({ stream: out.stream, level: 'INFO' });
    const t = new Date(2020, 0, 2, 3, 4, 5).getTime();
    log.line('DEBUG', 'serf', 'hidden', t);
    log.line('INFO', 'serf', 'EventMemberJoin: n1 10.10.105.71', t);
    log.line('WARN', 'agent', 'careful', t);
    log.line('TRACE', 'raft', 'hidden', t);
    log.line('ERR', 'agent', 'broken', t);
    expect(out.lines()).toEqual([
      '    2020/01/02 03:04:05 [INFO] serf: EventMemberJoin: n1 10.10.105.71',
      '    2020/01/02 03:04:05 [WARN] agent: careful',
      '    2020/01/02 03:04:05 [ERR] agent: broken',
    ]);
    log.setLevel('TRACE');
    log.line('TRACE', 'raft', 'now visible', t);
    expect(out.lines()).toHaveLength(4);
  });

  it('prints UTC when asked', () => {
    const out = capture();
    const log = new RealLog({ stream: out.stream, timeZone: 'utc' });
    log.line('INFO', 'agent', 'utc', Date.UTC(2015, 6, 3, 9, 18, 25));
    expect(out.lines()).toEqual(['    2015/07/03 09:18:25 [INFO] agent: utc']);
  });

  it('survives a stream that errors', () => {
    const out = capture();
    const log = new RealLog({ stream: out.stream });
    out.stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(() => log.line('INFO', 'agent', 'after the pipe closed', Date.now())).not.toThrow();
  });

  it('parses -log-level values, rejecting unknown ones clearly', () => {
    expect(parseLogLevel('info')).toBe('INFO');
    expect(parseLogLevel('warning')).toBe('WARN');
    expect(parseLogLevel(' err ')).toBe('ERR');
    expect(parseLogLevel('error')).toBe('ERR');
    expect(() => parseLogLevel('loud')).toThrow("log level 'loud' is not one of trace, debug, info, warn, err");
  });
});
