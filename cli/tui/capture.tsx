// cli/tui/capture.tsx — regenerates docs/tui-capture.txt: `node --import tsx cli/tui/capture.tsx > docs/tui-capture.txt`.
//
// Owns: one scripted session (seed 7, 3 servers + 2 clients; 20 s, crash the leader, run to
// the next election, 3 s more) rendered as plain text at 80×24 for the README.
// Must never: be used by the UI itself; it is a documentation generator.
import React from 'react';
import { renderToString } from 'ink';
import { SimObserver } from '../../sim/tui-model.ts';
import { buildSimCluster } from './sim-cluster.ts';
import { SimController } from './sim-controller.ts';
import { Screen } from './view.tsx';
import { plain } from './index.tsx';

const cluster = buildSimCluster({ seed: 7, servers: 3, clients: 2 });
const ctl = new SimController(new SimObserver(cluster.world, () => cluster.agents, { title: '3 servers, 2 clients' }), { speed: 1 });
for (let i = 0; i < 200; i++) ctl.tick(100);
const leader = ctl.model().nodes.find((n) => n.role === 'Leader')!.name;
ctl.act('crash', leader);
const message = ctl.act('nextElection', null);
ctl.paused = false;
for (let i = 0; i < 30; i++) ctl.tick(100);
ctl.paused = true;
const selected = ctl.model().nodes.findIndex((n) => n.name === leader);
const ui = { selected, paused: true, speed: 1, message, readOnly: false };
const text = renderToString(<Screen model={ctl.model()} ui={ui} cols={80} rows={24} />, { columns: 80 });
process.stdout.write(`${plain(text).split('\n').map((l) => l.trimEnd()).join('\n')}\n`);
