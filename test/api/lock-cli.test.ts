// `consul lock` argument checks, in process (no agent is reached before they fail): Consul's
// texts and exit code 1. The lock itself is tested against a real agent in test/e2e/lock-real.
import { describe, expect, it } from 'vitest';
import { commands } from '../../cli/commands/index.ts';
import type { CliIo } from '../../cli/commands/common.ts';

async function lock(args: string[]) {
  let out = '';
  let err = '';
  let requests = 0;
  const io: CliIo = {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env: {},
    http: {
      request: async () => {
        requests++;
        throw new Error('no agent in this test');
      },
    },
    startChild: () => {
      throw new Error('no child in this test');
    },
  };
  const code = await commands['lock']!(args, io);
  return { code, out, err, requests };
}

describe('consul lock arguments', () => {
  it('refuses bad arguments with Consul texts before contacting the agent', async () => {
    const cases: Array<[string[], string]> = [
      [['-n', '0', 'p', 'true'], 'Lock holder limit must be positive'],
      [['p'], 'Key prefix and child command must be specified'],
      [[], 'Key prefix and child command must be specified'],
      [['-timeout=-1s', 'p', 'true'], 'Timeout must be positive'],
      [['-monitor-retry=-1', 'p', 'true'], "Number for 'monitor-retry' must be >= 0"],
      [['-timeout=soon', 'p', 'true'], 'invalid value "soon" for flag -timeout: parse error'],
      [['-n', 'two', 'p', 'true'], 'invalid value "two" for flag -n: parse error'],
      [['-bogus', 'p', 'true'], 'flag provided but not defined: -bogus'],
    ];
    for (const [args, text] of cases) {
      const r = await lock(args);
      expect([r.code, r.err.split('\n')[0], r.requests], args.join(' ')).toEqual([1, text, 0]);
    }
  });
});
