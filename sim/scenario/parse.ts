// sim/scenario/parse.ts — scenario text → Scenario (hosts, steps, expected output).
//
// Owns: the file format (documented in scenarios/README.md): `host NAME IP` lines,
// `NAME$ command` lines each followed by the output they must produce, `NAME log:` blocks,
// `sleep`, `partition`/`isolate`/`heal`, comments, heredocs, and the markers inside
// expected output (`{{*}}`, `{{any order}}…{{end}}`, `… …`). Every error names the line and
// says how to fix it.
// Must never: run anything or touch the world; it only reads text.
import { ShellSyntaxError, parseDurationMs, splitWords, type Word } from './shell.ts';
import { expandTabs } from './match.ts';
import {
  ScenarioSyntaxError,
  type Command,
  type ExpectBlock,
  type ExpectItem,
  type HostDecl,
  type Scenario,
  type Sig,
  type Step,
} from './types.ts';

const HOST_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A line that is only an elision: `… …`, `…`, `…….`, `{{...}}`. */
export function isSkipLine(text: string): boolean {
  const t = text.trim();
  return t === '{{...}}' || (t.includes('…') && /^[….\s]+$/.test(t));
}

interface RawLine {
  text: string;
  line: number;
}

export function parseScenario(text: string, file = 'scenario'): Scenario {
  const sourceLines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const hosts: HostDecl[] = [];
  const hostByName = new Map<string, HostDecl>();
  const steps: Step[] = [];
  const err = (line: number, problem: string, hint = ''): never => {
    throw new ScenarioSyntaxError(file, line, problem, hint);
  };

  // The block being collected after a `run` or `log` step.
  let block: { rows: RawLine[]; after: number; finish: (b: ExpectBlock) => void } | null = null;
  // Line of a `coin toss` waiting for its step.
  let pendingCoin = 0;

  const closeBlock = (): void => {
    if (!block) return;
    const b = block;
    block = null;
    b.finish(buildBlock(b.rows, b.after, file));
  };

  const stepStart = (t: string): 'host' | 'prompt' | 'log' | 'sleep' | 'net' | 'coin' | null => {
    if (/^host\s/.test(t)) return 'host';
    if (/^coin toss\s*$/.test(t)) return 'coin';
    const prompt = /^([A-Za-z][A-Za-z0-9_.-]*)\$(\s|$)/.exec(t);
    if (prompt && hostByName.has(prompt[1]!)) return 'prompt';
    const log = /^([A-Za-z][A-Za-z0-9_.-]*)(\s+[A-Za-z][A-Za-z0-9_.-]*)?\s+log(\s+within\s+\S+)?:\s*$/.exec(t);
    if (log && hostByName.has(log[1]!)) return 'log';
    if (/^sleep\s+\S+\s*$/.test(t)) return 'sleep';
    if (/^(partition\s.*|isolate\s+\S+|heal)\s*$/.test(t)) return 'net';
    return null;
  };

  for (let i = 0; i < sourceLines.length; i++) {
    const raw = sourceLines[i]!;
    const lineNo = i + 1;
    const kind = raw.startsWith('#') ? 'comment' : stepStart(raw);
    if (kind === 'comment') {
      if (block) block.rows.push({ text: raw, line: lineNo });
      continue;
    }
    if (kind === null) {
      if (block) {
        block.rows.push({ text: raw, line: lineNo });
        continue;
      }
      if (raw.trim() === '') continue;
      const prompt = /^([A-Za-z][A-Za-z0-9_.-]*)\$(\s|$)/.exec(raw);
      if (prompt) {
        err(lineNo, `unknown host '${prompt[1]}'`, hosts.length ? `declared hosts: ${hosts.map((h) => h.name).join(', ')}; add a line 'host ${prompt[1]} IP' before using it` : `declare it first: 'host ${prompt[1]} 10.0.0.1'`);
      }
      err(
        lineNo,
        `expected a step here, found '${raw.trim()}'`,
        "steps are 'host NAME IP', 'NAME$ command', 'NAME log:', 'sleep 10s', 'partition A | B', 'isolate A', 'heal'; output lines belong right after a 'NAME$' line",
      );
    }
    closeBlock();
    const t = raw.trim();
    if (kind === 'coin') {
      if (pendingCoin) err(lineNo, "two 'coin toss' lines in a row", "one 'coin toss' marks the next step");
      pendingCoin = lineNo;
      continue;
    }
    const before = steps.length;
    if (kind === 'host') {
      const m = /^host\s+(\S+)\s+(\S+)\s*(#.*)?$/.exec(t);
      if (!m) err(lineNo, `bad host line '${t}'`, "write 'host NAME IP', e.g. 'host n1 10.10.105.71'");
      const [, name, ip] = m!;
      if (!HOST_NAME.test(name!)) err(lineNo, `bad host name '${name}'`, 'use letters, digits, _ . - (starting with a letter)');
      const o = IPV4.exec(ip!);
      if (!o || o.slice(1).some((x) => Number(x) > 255)) err(lineNo, `'${ip}' is not an IPv4 address`, "e.g. 'host n1 10.10.105.71'");
      if (ip!.startsWith('127.')) err(lineNo, `host ${name} has loopback address ${ip}`, 'give hosts routable addresses (127.0.0.1 means "this host" inside commands)');
      if (hostByName.has(name!)) err(lineNo, `host '${name}' is declared twice`, `first declared on line ${hostByName.get(name!)!.line}`);
      const dupIp = hosts.find((h) => h.ip === ip);
      if (dupIp) err(lineNo, `address ${ip} is already host '${dupIp.name}'`, 'each host needs its own address');
      if (steps.length > 0) err(lineNo, 'host lines must come before the first step', 'move this line to the top of the file');
      const h = { name: name!, ip: ip!, line: lineNo };
      hosts.push(h);
      hostByName.set(h.name, h);
    } else if (kind === 'sleep') {
      const arg = t.slice('sleep'.length).trim();
      const ms = parseDurationMs(arg);
      if (ms === null) err(lineNo, `bad duration '${arg}'`, 'write e.g. sleep 10s, sleep 500ms, sleep 2m');
      steps.push({ kind: 'sleep', ms: ms!, line: lineNo });
    } else if (kind === 'net') {
      steps.push(parseNet(t, lineNo, hostByName, err));
    } else if (kind === 'log') {
      const m = /^(\S+)(?:\s+(\S+))?\s+log(?:\s+within\s+(\S+))?:\s*$/.exec(t)!;
      let withinMs: number | null = null;
      if (m[3] !== undefined) {
        withinMs = parseDurationMs(m[3]);
        if (withinMs === null) err(lineNo, `bad duration '${m[3]}' in '${t}'`, "write e.g. 'n1 log within 90s:'");
      }
      const step: Step = {
        kind: 'log',
        host: m[1]!,
        proc: m[2] ?? 'agent',
        withinMs,
        expect: { items: [], startLine: lineNo + 1, endLine: lineNo },
        line: lineNo,
      };
      steps.push(step);
      block = { rows: [], after: lineNo, finish: (b) => (step.expect = b) };
    } else {
      const m = /^([A-Za-z][A-Za-z0-9_.-]*)\$\s?(.*)$/.exec(raw)!;
      const host = m[1]!;
      const cmdText = m[2]!.trim();
      if (cmdText === '') err(lineNo, `'${host}$' has no command`, `write e.g. '${host}$ consul members'`);
      let words: Word[];
      try {
        words = splitWords(cmdText);
      } catch (e) {
        if (e instanceof ShellSyntaxError) err(lineNo, e.message, 'close the quote on the same line');
        throw e;
      }
      // A heredoc's body follows the command line, up to its tag.
      const hd = words!.find((w) => !w.quoted && w.text.startsWith('<<'));
      let heredoc: string | null = null;
      let after = lineNo;
      if (hd) {
        const tag = hd.text.slice(2);
        const body: string[] = [];
        let j = i + 1;
        for (; j < sourceLines.length && sourceLines[j]!.trim() !== tag; j++) body.push(sourceLines[j]!);
        if (j >= sourceLines.length) err(lineNo, `heredoc '<<${tag}' is never closed`, `end it with a line containing only ${tag}`);
        heredoc = body.length ? `${body.join('\n')}\n` : '';
        i = j;
        after = j + 1;
      }
      const command = parseCommand(words!, heredoc, host, (p, h) => err(lineNo, p, h));
      const step: Step = { kind: 'run', host, text: cmdText, command, expect: { items: [], startLine: after + 1, endLine: after }, line: lineNo };
      steps.push(step);
      block = { rows: [], after, finish: (b) => (step.expect = b) };
    }
    if (pendingCoin && steps.length > before) {
      steps[steps.length - 1]!.coinToss = true;
      pendingCoin = 0;
    } else if (pendingCoin && kind === 'host') err(lineNo, "'coin toss' must be followed by a step", 'put it right before the step whose outcome is random');
  }
  if (pendingCoin) err(pendingCoin, "'coin toss' at the end of the file", 'put it right before the step whose outcome is random');
  closeBlock();
  if (hosts.length === 0) err(1, 'no hosts declared', "start the file with lines like 'host n1 10.10.105.71'");
  return { file, hosts, steps, sourceLines };
}

function parseNet(
  t: string,
  line: number,
  hosts: Map<string, HostDecl>,
  err: (line: number, problem: string, hint?: string) => never,
): Step {
  const known = (n: string): string => {
    if (!hosts.has(n)) err(line, `unknown host '${n}' in '${t}'`, `declared hosts: ${[...hosts.keys()].join(', ')}`);
    return n;
  };
  if (t === 'heal') return { kind: 'heal', line };
  if (t.startsWith('isolate')) return { kind: 'isolate', host: known(t.split(/\s+/)[1]!), line };
  const groups = t
    .slice('partition'.length)
    .split('|')
    .map((g) => g.trim().split(/\s+/).filter(Boolean).map(known));
  if (groups.length < 2 || groups.some((g) => g.length === 0)) {
    err(line, `bad partition '${t}'`, "separate two or more groups of hosts with '|', e.g. 'partition n1 | n2 n3'");
  }
  return { kind: 'partition', groups, line };
}

const SIGNALS: Record<string, Sig> = {
  '9': 'SIGKILL',
  KILL: 'SIGKILL',
  SIGKILL: 'SIGKILL',
  '2': 'SIGINT',
  INT: 'SIGINT',
  SIGINT: 'SIGINT',
  '15': 'SIGTERM',
  TERM: 'SIGTERM',
  SIGTERM: 'SIGTERM',
  '1': 'SIGHUP',
  HUP: 'SIGHUP',
  SIGHUP: 'SIGHUP',
};

const BUILTINS =
  "consul/muster …, consul agent …, muster discover NAME, dig …, curl …, cat FILE, cat > FILE <<EOF, echo … > FILE, mkdir -p DIR, webservice NAME PORT [GREETING], kill [-9|-INT|-TERM|-HUP] agent|NAME, ^C, sleep 10s";

function parseCommand(words: Word[], heredoc: string | null, host: string, err: (problem: string, hint?: string) => never): Command {
  const w = words.map((x) => x.text);
  const redir = words.findIndex((x) => !x.quoted && (x.text === '>' || x.text === '>>'));
  const first = w[0]!;
  if (first === '^C') {
    if (w.length > 1) err("'^C' stands alone", "it interrupts the host's agent (SIGINT), as Ctrl-C in its terminal");
    return { kind: 'signal', target: 'agent', sig: 'SIGINT' };
  }
  if (first === 'consul' || first === 'muster') {
    const sub = w[1];
    if (sub === undefined) err(`'${first}' needs a subcommand`, `e.g. '${first} members'`);
    if (redir >= 0) err('redirecting command output is not supported', 'expected output goes on the lines below the command');
    if (sub === 'agent') {
      const args = w.slice(2);
      if (args[args.length - 1] === '&') args.pop();
      return { kind: 'agent', args };
    }
    if (sub === 'discover') return { kind: 'discover', args: w.slice(2) };
    return { kind: 'cli', args: w.slice(1) };
  }
  if (first === 'dig' || first === 'curl') {
    if (redir >= 0) err('redirecting command output is not supported', 'expected output goes on the lines below the command');
    return { kind: first, args: w.slice(1) };
  }
  if (first === 'cat') {
    if (heredoc !== null) {
      if (redir < 0 || words[redir + 1] === undefined) err('a heredoc needs a file to write', `write: cat > FILE <<EOF`);
      return { kind: 'write', path: w[redir + 1]!, text: heredoc!, append: w[redir] === '>>' };
    }
    if (w.length !== 2 || redir >= 0) err(`cat takes one FILE to print, or '> FILE <<EOF' to write one`, 'e.g. cat /tmp/consul/raft/peers.json');
    return { kind: 'cat', path: w[1]! };
  }
  if (first === 'echo') {
    if (redir < 0 || redir !== w.length - 2) err("echo must end with '> FILE' or '>> FILE'", "e.g. echo '[\"10.0.0.1:8300\"]' > /tmp/consul/raft/peers.json");
    let body = w.slice(1, redir);
    let newline = true;
    if (body[0] === '-n') {
      newline = false;
      body = body.slice(1);
    }
    return { kind: 'write', path: w[redir + 1]!, text: body.join(' ') + (newline ? '\n' : ''), append: w[redir] === '>>' };
  }
  if (first === 'mkdir') {
    const dirs = w.slice(1).filter((x) => x !== '-p');
    if (dirs.length !== 1) err('mkdir takes one directory', 'e.g. mkdir -p conf');
    return { kind: 'mkdir', path: dirs[0]! };
  }
  if (first === 'sleep') {
    const ms = w.length === 2 ? parseDurationMs(w[1]!) : null;
    if (ms === null) err(`bad sleep '${w.slice(1).join(' ')}'`, 'write e.g. sleep 10s');
    return { kind: 'sleep', ms: ms! };
  }
  if (first === 'kill') {
    let sig: Sig = 'SIGTERM';
    let k = 1;
    if (w[k] === '-s') {
      const s = SIGNALS[(w[k + 1] ?? '').toUpperCase()];
      if (!s) err(`unknown signal '${w[k + 1] ?? ''}'`, 'use 9/KILL, INT, TERM or HUP');
      sig = s!;
      k += 2;
    } else if (w[k]?.startsWith('-')) {
      const s = SIGNALS[w[k]!.slice(1).toUpperCase()];
      if (!s) err(`unknown signal '${w[k]}'`, 'use -9 (KILL), -INT, -TERM or -HUP');
      sig = s!;
      k++;
    }
    if (w.length !== k + 1) err('kill takes one target', "the host's agent ('kill -9 agent') or a web service by name ('kill web3')");
    return { kind: 'signal', target: w[k]!, sig };
  }
  if (first === 'webservice') {
    const name = w[1];
    const port = Number(w[2]);
    if (!name || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name) || name === 'agent') {
      err('webservice needs a NAME (letters, digits, _ -; not "agent")', 'e.g. webservice web3 10000 "Hello Web3! This is n3"');
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) err(`webservice needs a PORT 1-65535, got '${w[2] ?? ''}'`, 'e.g. webservice web3 10000');
    const greeting = w.length > 3 ? w.slice(3).join(' ') : `Hello ${name}! This is ${host}`;
    return { kind: 'webservice', name: name!, port, greeting };
  }
  return err(`unknown command '${first}'`, `built-ins: ${BUILTINS}`);
}

function buildBlock(rows: RawLine[], after: number, file: string): ExpectBlock {
  // Comments are dropped; leading/trailing blank lines are not part of the output.
  const content = rows.filter((r) => !r.text.startsWith('#'));
  let a = 0;
  let b = content.length;
  while (a < b && content[a]!.text.trim() === '') a++;
  while (b > a && content[b - 1]!.text.trim() === '') b--;
  const kept = content.slice(a, b);
  if (kept.length === 0) return { items: [], startLine: after + 1, endLine: after };
  const items: ExpectItem[] = [];
  let group: Extract<ExpectItem, { kind: 'anyOrder' }> | null = null;
  for (const r of kept) {
    const marker = r.text.trim();
    if (marker === '{{any order}}') {
      if (group) throw new ScenarioSyntaxError(file, r.line, '{{any order}} inside another {{any order}}', `close the first one (line ${group.line}) with {{end}}`);
      group = { kind: 'anyOrder', lines: [], line: r.line };
      continue;
    }
    if (marker === '{{end}}') {
      if (!group) throw new ScenarioSyntaxError(file, r.line, '{{end}} without {{any order}}', 'remove it, or open the group with {{any order}}');
      if (group.lines.length === 0) throw new ScenarioSyntaxError(file, r.line, 'empty {{any order}} group', 'put the lines that may come in any order between the markers');
      items.push(group);
      group = null;
      continue;
    }
    if (isSkipLine(r.text)) {
      if (group) throw new ScenarioSyntaxError(file, r.line, '"… …" inside {{any order}}', 'list the lines themselves inside a group');
      items.push({ kind: 'skip', line: r.line });
      continue;
    }
    // A leading backslash escapes a line that would otherwise read as a step or marker.
    // Expected lines are compared the way output is: tabs as a terminal shows them.
    const text = expandTabs(r.text.startsWith('\\') ? r.text.slice(1) : r.text).trimEnd();
    if (group) group.lines.push({ text, line: r.line });
    else items.push({ kind: 'line', text, line: r.line });
  }
  if (group) throw new ScenarioSyntaxError(file, group.line, '{{any order}} is never closed', 'end the group with a line {{end}}');
  return { items, startLine: kept[0]!.line, endLine: kept[kept.length - 1]!.line };
}
