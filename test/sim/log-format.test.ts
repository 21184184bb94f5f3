import { describe, expect, it } from 'vitest';
import { formatLogLine, formatTimestamp } from '../../core/runtime/log-format.ts';

describe('log format', () => {
  it('matches Consul 0.5 lines', () => {
    const t = Date.UTC(2015, 6, 3, 9, 18, 25, 999);
    expect(formatLogLine('INFO', 'raft', 'Node at 10.10.126.101:8300 [Leader] entering Leader state', t)).toBe(
      '    2015/07/03 09:18:25 [INFO] raft: Node at 10.10.126.101:8300 [Leader] entering Leader state',
    );
    expect(formatLogLine('ERR', 'agent', 'failed to sync remote state: No cluster leader', t)).toBe(
      '    2015/07/03 09:18:25 [ERR] agent: failed to sync remote state: No cluster leader',
    );
    expect(formatLogLine('WARN', '', 'bare', t)).toBe('    2015/07/03 09:18:25 [WARN] bare');
  });

  it('agrees with Date for many instants (leap years, month ends, pre-1970)', () => {
    const samples = [0, -1, 951782400000, 951868799999, 4102444800000, -2208988800000, 1435915105000];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor((i * 7919.123457 - 3000) * 86_400_000 + i * 3_600_777));
    for (const ms of samples) {
      const d = new Date(ms);
      const p = (n: number) => String(n).padStart(2, '0');
      const want = `${String(d.getUTCFullYear()).padStart(4, '0')}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
      expect(formatTimestamp(ms)).toBe(want);
    }
    expect(() => formatTimestamp(NaN)).toThrow(/finite/);
  });
});
