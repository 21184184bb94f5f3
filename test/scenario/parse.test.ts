// Parser and matcher unit tests: the scenario format, and clear errors (with line numbers)
// for bad input.
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { ScenarioSyntaxError, type Step } from '../../sim/scenario/types.ts';
import { matchExact, matchLog, normalizeOutput } from '../../sim/scenario/match.ts';
import { splitWords } from '../../sim/scenario/shell.ts';
import { applyReplacements } from '../../sim/scenario/engine.ts';
import { resolvePath, rewriteAgentArgs } from '../../sim/scenario/args.ts';
import { parseDigArgs } from '../../sim/scenario/dig-args.ts';

const HOSTS = 'host n1 10.10.105.71\nhost n2 10.10.126.101\n';

function run(step: Step | undefined): Extract<Step, { kind: 'run' }> {
  if (!step || step.kind !== 'run') throw new Error(`expected a run step, got ${step?.kind}`);
  return step;
}

function syntaxError(text: string): ScenarioSyntaxError {
  try {
    parseScenario(text, 'bad.scenario');
  } catch (e) {
    if (e instanceof ScenarioSyntaxError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioSyntaxError');
}

describe('scenario parser', () => {
  it('reads hosts, commands with their output, log blocks, waits and faults', () => {
    const s = parseScenario(
      `# comment\n${HOSTS}\nn1$ consul members\nNode  Address\nn1    10.10.105.71:8301\n\n# between steps\nn2 log within 90s:\n    2015/07/03 11:40:54 [INFO] raft: Election won. Tally: 2\n\nsleep 10s\npartition n1 | n2\nheal\nisolate n2\nn1$ ^C\nn1$ kill -9 agent\nn2$ webservice web3 10000 "Hello Web3! This is n2"\nn1$ consul agent -server -data-dir /tmp/consul &\n`,
      'ok.scenario',
    );
    expect(s.hosts).toEqual([
      { name: 'n1', ip: '10.10.105.71', line: 2 },
      { name: 'n2', ip: '10.10.126.101', line: 3 },
    ]);
    expect(s.steps.map((x) => x.kind)).toEqual(['run', 'log', 'sleep', 'partition', 'heal', 'isolate', 'run', 'run', 'run', 'run']);
    const members = run(s.steps[0]);
    expect(members.command).toEqual({ kind: 'cli', args: ['members'] });
    expect(members.expect.items.map((i) => (i.kind === 'line' ? i.text : i.kind))).toEqual(['Node  Address', 'n1    10.10.105.71:8301']);
    expect(members.expect.startLine).toBe(6);
    expect(members.expect.endLine).toBe(7);
    const log = s.steps[1]!;
    expect(log).toMatchObject({ kind: 'log', host: 'n2', proc: 'agent', withinMs: 90_000 });
    expect(s.steps[2]).toMatchObject({ kind: 'sleep', ms: 10_000 });
    expect(s.steps[3]).toMatchObject({ kind: 'partition', groups: [['n1'], ['n2']] });
    expect(run(s.steps[6]).command).toEqual({ kind: 'signal', target: 'agent', sig: 'SIGINT' });
    expect(run(s.steps[7]).command).toEqual({ kind: 'signal', target: 'agent', sig: 'SIGKILL' });
    expect(run(s.steps[8]).command).toEqual({ kind: 'webservice', name: 'web3', port: 10000, greeting: 'Hello Web3! This is n2' });
    expect(run(s.steps[9]).command).toEqual({ kind: 'agent', args: ['-server', '-data-dir', '/tmp/consul'] });
  });

  it('reads heredocs and echo redirections as file writes', () => {
    const s = parseScenario(`${HOSTS}n1$ cat > /tmp/consul/raft/peers.json <<EOF\n["10.10.126.101:8300","10.10.105.71:8300"]\nEOF\n\nn2$ echo 'null' > peers.json\nn2$ cat peers.json\nnull\n`);
    expect(run(s.steps[0]).command).toEqual({ kind: 'write', path: '/tmp/consul/raft/peers.json', text: '["10.10.126.101:8300","10.10.105.71:8300"]\n', append: false });
    expect(run(s.steps[0]).expect.items).toEqual([]);
    expect(run(s.steps[1]).command).toEqual({ kind: 'write', path: 'peers.json', text: 'null\n', append: false });
    expect(run(s.steps[2]).command).toEqual({ kind: 'cat', path: 'peers.json' });
  });

  it('reads markers: any-order groups, elisions, escapes and coin tosses', () => {
    const s = parseScenario(`${HOSTS}coin toss\nn1$ dig @127.0.0.1 -p 8600 web3.service.consul SRV\n\n;; ANSWER SECTION:\n{{any order}}\na\nb\n{{end}}\n… …\n\\# literal\n`);
    const d = run(s.steps[0]);
    expect(d.coinToss).toBe(true);
    expect(d.expect.items.map((i) => i.kind)).toEqual(['line', 'anyOrder', 'skip', 'line']);
    expect(d.expect.items[3]).toMatchObject({ kind: 'line', text: '# literal' });
  });

  it.each([
    ['n9$ consul members\n', 4, "unknown host 'n9'"],
    ['hello there\n', 4, "expected a step here, found 'hello there'"],
    ['n1$ frobnicate\n', 4, "unknown command 'frobnicate'"],
    ['sleep ten\n', 4, "bad duration 'ten'"],
    ['n1$ cat > f <<EOF\nnever closed\n', 4, "heredoc '<<EOF' is never closed"],
    ['n1$ consul members\n{{any order}}\na\n', 5, '{{any order}} is never closed'],
    ['n1$ consul members\n{{end}}\n', 5, '{{end}} without {{any order}}'],
    ['n1$ echo "unterminated\n', 4, 'unterminated double quote'],
    ['partition n1 n2\n', 4, "bad partition 'partition n1 n2'"],
    ['partition n1 | n7\n', 4, "unknown host 'n7'"],
    ['n1$ kill -FOO agent\n', 4, "unknown signal '-FOO'"],
    ['n1$ webservice web3 99999\n', 4, 'webservice needs a PORT'],
    ['coin toss\n', 4, "'coin toss' at the end of the file"],
    ['n1$ consul members\nhost n3 10.0.0.3\n', 5, 'host lines must come before the first step'],
  ])('rejects %j with a clear error at line %i', (body, line, problem) => {
    const e = syntaxError(`${HOSTS}\n${body}`);
    expect(e.line).toBe(line);
    expect(e.message).toContain(`bad.scenario:${line}: `);
    expect(e.message).toContain(problem);
    expect(e.hint.length).toBeGreaterThan(0);
  });

  it('rejects bad host lines', () => {
    expect(syntaxError('host n1 300.1.1.1\n').message).toContain("'300.1.1.1' is not an IPv4 address");
    expect(syntaxError('host n1 127.0.0.5\n').message).toContain('loopback');
    expect(syntaxError('host n1 10.0.0.1\nhost n1 10.0.0.2\n').message).toContain("host 'n1' is declared twice");
    expect(syntaxError('# nothing\n').message).toContain('no hosts declared');
  });
});

describe('scenario matching', () => {
  it('matches exact output with wildcards, any-order groups and elisions', () => {
    const s = parseScenario(`${HOSTS}n1$ consul info\n… …\nraft:\n\tstate = {{*}}\n… …\n{{any order}}\nx\ny\n{{end}}\n`);
    const items = run(s.steps[0]).expect.items;
    expect(matchExact(items, normalizeOutput('agent:\n\tchecks = 0\nraft:\n\tstate = Leader\nserf:\ny\nx\n\n'))).toBeNull();
    const f = matchExact(items, normalizeOutput('raft:\n\tterm = 1\ny\nx\n'));
    expect(f).not.toBeNull();
    expect(f!.expectedText).toBe('        state = {{*}}');
    expect(matchExact(items, normalizeOutput('raft:\n\tstate = Leader\nx\nx\n'))).not.toBeNull();
  });

  it('exact mode reports extra output', () => {
    const s = parseScenario(`${HOSTS}n1$ consul join 10.10.126.101\nSuccessfully joined cluster by contacting 1 nodes.\n`);
    const f = matchExact(run(s.steps[0]).expect.items, ['Successfully joined cluster by contacting 1 nodes.', 'extra']);
    expect(f).toMatchObject({ expectedLine: 0, actualIndex: 1 });
  });

  it('log mode finds lines in order after the cursor, ignoring stamps and indentation', () => {
    const s = parseScenario(`${HOSTS}n1 log:\n2015/07/03 09:29:48 [INFO] agent: (LAN) joining: [10.10.126.101]\n    2015/07/03 09:29:49 [INFO] consul: New leader elected: n2\n`);
    const items = s.steps[0]!.kind === 'log' ? s.steps[0]!.expect.items : [];
    const lines = [
      '    2026/01/01 00:00:00 [INFO] consul: New leader elected: n2',
      '    2026/01/01 00:00:01 [INFO] agent: (LAN) joining: [10.10.126.101]',
      '    2026/01/01 00:00:01 [WARN] raft: something else',
      '    2026/01/01 00:00:02 [INFO] consul: New leader elected: n2',
    ];
    expect(matchLog(items, lines, 0)).toEqual({ ok: true, next: 4 });
    expect(matchLog(items, lines, 2).ok).toBe(false);
  });

  it('log mode any-order groups take distinct lines', () => {
    const s = parseScenario(`${HOSTS}n1 log:\n{{any order}}\n[INFO] a {{*}}\n[INFO] a b\n{{end}}\n`);
    const items = s.steps[0]!.kind === 'log' ? s.steps[0]!.expect.items : [];
    expect(matchLog(items, ['[INFO] a b', '[INFO] a c'], 0)).toEqual({ ok: true, next: 2 });
    expect(matchLog(items, ['[INFO] a b'], 0).ok).toBe(false);
  });
});

describe('scenario helpers', () => {
  it('splits shell words with quotes, escapes and redirections', () => {
    expect(splitWords(`echo 'a b' "c \\"d\\"" e\\ f >> out`).map((w) => w.text)).toEqual(['echo', 'a b', 'c "d"', 'e f', '>>', 'out']);
    expect(splitWords('cat > f <<EOF').map((w) => w.text)).toEqual(['cat', '>', 'f', '<<EOF']);
  });

  it('resolves paths and rewrites agent path and address flags', () => {
    expect(resolvePath('./conf/../conf/web3.json')).toBe('/home/muster/conf/web3.json');
    expect(resolvePath('/tmp//consul/')).toBe('/tmp/consul');
    expect(
      rewriteAgentArgs(['-data-dir', '/tmp/consul', '-config-dir=./conf', '-bind=10.0.0.1', '-node=n1', '-server'], {
        path: (p) => `R${resolvePath(p)}`,
        addr: (_f, v) => `A${v}`,
      }),
    ).toEqual(['-data-dir', 'R/tmp/consul', '-config-dir=R/home/muster/conf', '-bind=A10.0.0.1', '-node=n1', '-server']);
  });

  it('parses dig arguments and rejects what it does not support', () => {
    expect(parseDigArgs(['@127.0.0.1', '-p', '8600', 'web3.service.consul', 'SRV'])).toMatchObject({ server: '127.0.0.1', port: 8600, qname: 'web3.service.consul', qtype: 'SRV', tcp: false });
    expect(parseDigArgs(['-x', '1.2.3.4'])).toContain("option '-x' is not supported");
    expect(parseDigArgs(['@127.0.0.1'])).toContain('which name?');
  });

  it('applies --update replacements bottom-up, including insertions into empty blocks', () => {
    const src = ['a$ x', 'old1', 'old2', '', 'a$ y', '', 'a$ z'];
    expect(applyReplacements(src, [
      { startLine: 2, endLine: 3, lines: ['new'] },
      { startLine: 6, endLine: 5, lines: ['ins'] },
    ])).toEqual(['a$ x', 'new', '', 'a$ y', 'ins', '', 'a$ z']);
  });
});
