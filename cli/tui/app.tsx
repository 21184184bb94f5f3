// cli/tui/app.tsx — the interactive ink app: keys → controller actions, model → Screen.
//
// Owns: the selected node, the header message, keyboard handling and terminal size (re-render
// on resize).
// Must never: step time or touch the cluster itself; everything goes through the controller.
import React, { useEffect, useReducer, useRef, useState } from 'react';
import { useApp, useInput, useStdout } from 'ink';
import type { Action, TuiController } from './controller.ts';
import { Screen } from './view.tsx';

export interface AppProps {
  controller: TuiController;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  cols?: number;
  rows?: number;
  onQuit?: () => void;
}

const KEY_ACTIONS: Record<string, Action> = {
  ' ': 'togglePause',
  s: 'step',
  '+': 'faster',
  '=': 'faster',
  '-': 'slower',
  _: 'slower',
  p: 'isolate',
  h: 'heal',
  c: 'crash',
  r: 'restart',
  l: 'leave',
  e: 'nextElection',
};

export function App({ controller, cols, rows, onQuit }: AppProps): React.ReactElement {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [, refresh] = useReducer((x: number) => x + 1, 0);
  // A ref, not only state: keys typed quickly ("3p") must act on the node just selected, even
  // before the re-render hands ink a fresh input handler.
  const selectedRef = useRef(0);
  const [, setSelectedState] = useState(0);
  const setSelected = (i: number): void => {
    selectedRef.current = i;
    setSelectedState(i);
  };
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => controller.subscribe(refresh), [controller]);
  useEffect(() => {
    const onResize = (): void => refresh();
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  const model = controller.model();
  const clamp = (i: number, n: number): number => (n === 0 ? 0 : Math.min(i, n - 1));
  const sel = clamp(selectedRef.current, model.nodes.length);

  useInput((input, key) => {
    const nodes = controller.model().nodes;
    const count = nodes.length;
    const sel = clamp(selectedRef.current, count);
    if (input === 'q' || (key.ctrl && input === 'c')) {
      controller.stop();
      onQuit?.();
      exit();
      return;
    }
    if (key.tab || key.rightArrow) {
      setSelected(count === 0 ? 0 : (sel + (key.shift ? count - 1 : 1)) % count);
      return;
    }
    if (key.leftArrow) {
      setSelected(count === 0 ? 0 : (sel + count - 1) % count);
      return;
    }
    if (/^[1-9]$/.test(input)) {
      const i = Number(input) - 1;
      if (i < count) setSelected(i);
      return;
    }
    const action = KEY_ACTIONS[input];
    if (!action) return;
    if (controller.readOnly) {
      setMessage('read-only view: keys do not act');
      return;
    }
    setMessage(controller.act(action, nodes[sel]?.name ?? null));
  });

  const width = cols ?? stdout.columns ?? 80;
  const height = rows ?? stdout.rows ?? 24;
  return (
    <Screen
      model={model}
      ui={{ selected: sel, paused: controller.paused, speed: controller.speed, message, readOnly: controller.readOnly }}
      cols={width}
      rows={height}
    />
  );
}
