#!/usr/bin/env node
// Entry shim: runs the TypeScript CLI through tsx, so `npx muster …` works right after `npm install`.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

register();
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { main } = await import(join(root, 'cli', 'main.ts'));
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
