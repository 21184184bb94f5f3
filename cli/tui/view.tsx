// cli/tui/view.tsx — the screen: node panels, event timeline, network, services, footer.
//
// Owns: laying a ClusterModel out in a cols×rows terminal (80×24 and up), panel by panel,
// never taller than rows-1 lines so ink redraws in place.
// Must never: read input, keep state of its own, or know whether the model comes from the
// simulator or a real cluster (it only reads ClusterModel fields).
import React from 'react';
import { Box, Text } from 'ink';
import type { ClusterModel, NodeView, ServiceInstanceView, TimelineEvent } from '../../sim/tui-model.ts';
import { EVENT_COLOR, GOSSIP_COLOR, ROLE_COLOR, clip, fit, formatSpeed, formatVirtual, shortDuration } from './format.ts';

export interface UiState {
  selected: number;
  paused: boolean;
  /** Virtual ms per real ms. */
  speed: number;
  message: string | null;
  readOnly: boolean;
}

export interface ScreenProps {
  model: ClusterModel;
  ui: UiState;
  cols: number;
  rows: number;
}

const PANEL_MIN_W = 16;
const PANEL_LINES = 8;

export function Screen({ model, ui, cols, rows }: ScreenProps): React.ReactElement {
  const width = Math.max(40, cols);
  const height = Math.max(12, rows) - 1;
  const boxes = model.nodes.length > 0 && model.nodes.length * PANEL_MIN_W <= width && height >= 20;
  const nodesH = boxes ? PANEL_LINES + 2 : Math.min(model.nodes.length + 1, Math.max(3, Math.floor(height / 3)));
  const footerH = 2;
  const bottomH = Math.max(3, height - 1 - nodesH - footerH);
  const leftW = Math.floor(width * 0.55);
  const rightW = width - leftW;
  const netH = Math.max(2, Math.floor(bottomH / 2));
  const svcH = bottomH - netH;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Header model={model} ui={ui} width={width} />
      {boxes ? (
        <NodePanels nodes={model.nodes} selected={ui.selected} width={width} />
      ) : (
        <NodeTable nodes={model.nodes} selected={ui.selected} width={width} height={nodesH} />
      )}
      <Box flexDirection="row" height={bottomH}>
        <Timeline events={model.events} width={leftW} height={bottomH} />
        <Box flexDirection="column" width={rightW} height={bottomH}>
          <Network model={model} width={rightW} height={netH} />
          <Services services={model.services} width={rightW} height={svcH} />
        </Box>
      </Box>
      <Footer model={model} ui={ui} width={width} />
    </Box>
  );
}

function Header({ model, ui, width }: { model: ClusterModel; ui: UiState; width: number }): React.ReactElement {
  const run = ui.readOnly ? '' : ui.paused ? ' │ ❚❚ paused' : ` │ ▶ running ${formatSpeed(ui.speed)}`;
  const left = `Muster TUI │ ${model.title}${run}`;
  const msg = ui.message ?? model.status ?? '';
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">
        {clip(left, width)}
      </Text>
      {msg ? <Text color="yellow">{clip(` │ ${msg}`, Math.max(0, width - left.length))}</Text> : null}
    </Text>
  );
}

// ------------------------------------------------------------------ nodes

function NodePanels({ nodes, selected, width }: { nodes: NodeView[]; selected: number; width: number }): React.ReactElement {
  const w = Math.max(PANEL_MIN_W, Math.min(26, Math.floor(width / nodes.length)));
  return (
    <Box flexDirection="row" height={PANEL_LINES + 2}>
      {nodes.map((n, i) => (
        <NodePanel key={n.addr} node={n} index={i} selected={i === selected} width={w} />
      ))}
    </Box>
  );
}

function NodePanel({ node, index, selected, width }: { node: NodeView; index: number; selected: boolean; width: number }): React.ReactElement {
  const w = width - 2;
  const line = (label: string, value: string): string => fit(`${label} ${value}`, w);
  return (
    <Box flexDirection="column" width={width} height={PANEL_LINES + 2} borderStyle={selected ? 'double' : 'round'} borderColor={selected ? 'cyan' : 'gray'}>
      <Text bold wrap="truncate" inverse={selected}>
        {fit(`${index < 9 ? index + 1 : ' '} ${node.name}`, w)}
      </Text>
      <Text dimColor wrap="truncate">
        {fit(node.addr, w)}
      </Text>
      <Text wrap="truncate">
        <Text color={ROLE_COLOR[node.role]} bold={node.role === 'Leader'}>
          {node.role}
        </Text>
        <Text>{fit(node.term !== null ? ` t${node.term}` : '', Math.max(0, w - node.role.length))}</Text>
      </Text>
      <Text wrap="truncate">{line('idx', node.commitIndex !== null ? `${node.commitIndex}/${node.appliedIndex}` : '-')}</Text>
      <Text wrap="truncate">{line('contact', node.server ? shortDuration(node.lastContact) : '-')}</Text>
      <Text wrap="truncate">{line('vote', node.server ? (node.votedFor ?? '-') : '-')}</Text>
      <Text wrap="truncate">
        <Text>gossip </Text>
        <Text color={GOSSIP_COLOR[node.gossip]}>{fit(node.gossip, Math.max(0, w - 7))}</Text>
      </Text>
      <Text wrap="truncate">{line('peers', node.server && node.running ? node.peers.join(',') || '(none)' : '-')}</Text>
    </Box>
  );
}

function NodeTable({ nodes, selected, width, height }: { nodes: NodeView[]; selected: number; width: number; height: number }): React.ReactElement {
  const shown = nodes.slice(0, Math.max(0, height - 1));
  const head = `${fit('  node', 9)}${fit('address', 16)}${fit('role', 10)}${fit('term', 5)}${fit('idx', 10)}${fit('contact', 8)}${fit('vote', 6)}${fit('gossip', 8)}peers`;
  return (
    <Box flexDirection="column" height={height}>
      <Text dimColor wrap="truncate">
        {clip(head, width)}
      </Text>
      {shown.map((n, i) => (
        <Text key={n.addr} wrap="truncate" inverse={i === selected}>
          <Text bold>{fit(`${i < 9 ? i + 1 : ' '} ${n.name}`, 9)}</Text>
          <Text>{fit(n.addr, 16)}</Text>
          <Text color={ROLE_COLOR[n.role]}>{fit(n.role, 10)}</Text>
          <Text>{fit(n.term !== null ? String(n.term) : '-', 5)}</Text>
          <Text>{fit(n.commitIndex !== null ? `${n.commitIndex}/${n.appliedIndex}` : '-', 10)}</Text>
          <Text>{fit(n.server ? shortDuration(n.lastContact) : '-', 8)}</Text>
          <Text>{fit(n.votedFor ?? '-', 6)}</Text>
          <Text color={GOSSIP_COLOR[n.gossip]}>{fit(n.gossip, 8)}</Text>
          <Text>{clip(n.peers.join(','), Math.max(0, width - 72))}</Text>
        </Text>
      ))}
    </Box>
  );
}

// ------------------------------------------------------------------ timeline

export function eventText(e: TimelineEvent): string {
  if (e.kind === 'fault') return `✖ ${e.node} ${e.text}`;
  const shared = e.kind === 'join' || e.kind === 'leader' || e.kind === 'failed' || e.kind === 'reap' || e.kind === 'leave' || e.kind === 'suspect';
  if (shared && e.seenBy.length > 1) return `${e.text} (seen by ${e.seenBy.length})`;
  return `${e.node}: ${e.text}`;
}

function Timeline({ events, width, height }: { events: TimelineEvent[]; width: number; height: number }): React.ReactElement {
  const shown = events.slice(-Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {fit('Timeline', width - 1)}
      </Text>
      {shown.length === 0 ? <Text dimColor>(no events yet)</Text> : null}
      {shown.map((e) => {
        const time = e.atMs !== null ? formatVirtual(e.atMs).padStart(9) : ''.padStart(9);
        return (
          <Text key={e.seq} wrap="truncate">
            <Text dimColor>{time} </Text>
            <Text color={EVENT_COLOR[e.kind]}>{clip(eventText(e), Math.max(0, width - 11))}</Text>
          </Text>
        );
      })}
    </Box>
  );
}

// ------------------------------------------------------------------ network

interface PairView {
  a: string;
  b: string;
  ab: number;
  ba: number;
  cut: boolean;
}

export function linkPairs(model: ClusterModel): PairView[] {
  const pairs = new Map<string, PairView>();
  const order = new Map(model.nodes.map((n, i) => [n.name, i]));
  for (const l of model.network?.links ?? []) {
    const first = (order.get(l.from) ?? 99) <= (order.get(l.to) ?? 99);
    const [a, b] = first ? [l.from, l.to] : [l.to, l.from];
    const key = `${a}|${b}`;
    const p = pairs.get(key) ?? { a, b, ab: 0, ba: 0, cut: false };
    if (first) p.ab += l.count;
    else p.ba += l.count;
    p.cut ||= l.cut;
    pairs.set(key, p);
  }
  return [...pairs.values()].sort((x, y) => Number(y.cut) - Number(x.cut) || (order.get(x.a)! - order.get(y.a)!) || (order.get(x.b)! - order.get(y.b)!));
}

function Network({ model, width, height }: { model: ClusterModel; width: number; height: number }): React.ReactElement {
  const net = model.network;
  const w = width - 1;
  if (!net) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold wrap="truncate">
          {fit('Network', w)}
        </Text>
        <Text dimColor wrap="truncate">
          {clip('per-link counts: simulator only', w)}
        </Text>
      </Box>
    );
  }
  const groupsLine = net.groups ? `cut: ${net.groups.map((g) => `[${g.join(' ')}]`).join(' ╳ ')}` : 'no partition';
  const pairs = linkPairs(model);
  const cellW = 17;
  const perLine = Math.max(1, Math.floor(w / cellW));
  const lines = Math.max(0, height - 1);
  const overflow = pairs.length > lines * perLine;
  const shown = overflow ? pairs.slice(0, Math.max(0, (lines - 1) * perLine)) : pairs;
  const rows: PairView[][] = [];
  for (let i = 0; i < shown.length; i += perLine) rows.push(shown.slice(i, i + perLine));
  const more = pairs.length - shown.length;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Network </Text>
        <Text color={net.groups ? 'red' : 'green'}>{clip(groupsLine, Math.max(0, w - 8))}</Text>
      </Text>
      {rows.map((r, i) => (
        <Text key={i} wrap="truncate">
          {r.map((p) => (
            <Text key={`${p.a}|${p.b}`} color={p.cut ? 'red' : undefined}>
              {fit(`${p.a}${p.cut ? '╳' : '⇄'}${p.b} ${p.ab}/${p.ba}`, cellW)}
            </Text>
          ))}
        </Text>
      ))}
      {more > 0 && lines > 0 ? (
        <Text dimColor wrap="truncate">
          {clip(`+${more} more links`, w)}
        </Text>
      ) : null}
    </Box>
  );
}

// ------------------------------------------------------------------ services

function Services({ services, width, height }: { services: ServiceInstanceView[]; width: number; height: number }): React.ReactElement {
  const w = width - 1;
  const lines = Math.max(0, height - 1);
  const detailed = services.length <= lines;
  const byName = new Map<string, ServiceInstanceView[]>();
  for (const s of services) byName.set(s.service, [...(byName.get(s.service) ?? []), s]);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {fit('Services (as DNS answers)', w)}
      </Text>
      {services.length === 0 ? <Text dimColor>(none registered)</Text> : null}
      {detailed
        ? services.map((s) => (
            <Text key={`${s.service}/${s.node}/${s.port}`} wrap="truncate">
              <Text bold>{fit(s.service, 8)}</Text>
              <Text>{fit(w >= 45 ? `${s.node} ${s.address}:${s.port}` : `${s.node}:${s.port}`, Math.max(0, w - 8 - 15))}</Text>
              <Text color={s.status === 'passing' ? 'green' : s.status === 'warning' ? 'yellow' : 'red'}>{fit(s.status, 9)}</Text>
              <Text color={s.inDns ? 'green' : 'red'}>{s.inDns ? 'DNS ✓' : 'DNS ✗'}</Text>
            </Text>
          ))
        : [...byName.entries()].slice(0, lines).map(([name, list]) => (
            <Text key={name} wrap="truncate">
              <Text bold>{name}: </Text>
              {list.map((s) => (
                <Text key={`${s.node}/${s.port}`} color={s.inDns ? 'green' : 'red'}>
                  {`${s.node}${s.inDns ? '✓' : '✗'} `}
                </Text>
              ))}
            </Text>
          ))}
    </Box>
  );
}

// ------------------------------------------------------------------ footer

export const KEYS_WIDE = 'space pause  s step  +/- speed  p/h isolate/heal  c/r crash/restart  l leave  e next election  tab/1-9 select  q quit';
export const KEYS_NARROW = '␣ pause s step +- speed p/h cut/heal c/r crash/restart l leave e elect ⇥/1-9 q';
export const KEYS_READONLY = 'read-only view of a real cluster   tab/1-9 select   q quit';

function Footer({ model, ui, width }: { model: ClusterModel; ui: UiState; width: number }): React.ReactElement {
  let status: string;
  if (model.mode === 'http') {
    const c = model.connection;
    status = c ? (c.ok ? `connected · ${c.message}` : `✖ ${c.message}`) : 'connecting…';
  } else {
    const hash = model.traceHash ? model.traceHash.slice(0, 16) : '-';
    status = `seed ${model.seed ?? '-'} · t=${model.nowMs !== null ? formatVirtual(model.nowMs) : '-'} · trace ${hash}`;
  }
  const keys = ui.readOnly ? KEYS_READONLY : width >= KEYS_WIDE.length ? KEYS_WIDE : KEYS_NARROW;
  const bad = model.mode === 'http' && model.connection !== null && !model.connection.ok;
  return (
    <Box flexDirection="column" height={2}>
      <Text wrap="truncate" inverse color={bad ? 'red' : undefined}>
        {fit(` ${status}`, width)}
      </Text>
      <Text wrap="truncate" dimColor>
        {clip(keys, width)}
      </Text>
    </Box>
  );
}
