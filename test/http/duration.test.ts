import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from '../../core/http/duration.ts';

describe('Go durations', () => {
  it('parses the spellings clients send', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('300000ms')).toBe(300_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250us')).toBe(0.25);
    expect(parseGoDuration('2µs')).toBe(0.002);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('.5s')).toBe(500);
  });

  it('refuses what Go refuses', () => {
    for (const bad of ['', '10', '10x', 's', '1m30', '-5s', '1 s', 'ten seconds', '5s ms']) {
      expect(parseGoDuration(bad), bad).toBeNull();
    }
  });

  it('formats as time.Duration.String()', () => {
    expect(formatGoDuration(15_000)).toBe('15s');
    expect(formatGoDuration(90_000)).toBe('1m30s');
    expect(formatGoDuration(600_000)).toBe('10m0s');
    expect(formatGoDuration(86_400_000)).toBe('24h0m0s');
    expect(formatGoDuration(300)).toBe('300ms');
    expect(formatGoDuration(1500)).toBe('1.5s');
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(0.5)).toBe('500µs');
  });

  it('format then parse round-trips whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3_600_000 }), (ms) => parseGoDuration(formatGoDuration(ms)) === ms),
      { verbose: true },
    );
  });
});
