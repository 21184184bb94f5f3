// ui/env.d.ts — module kinds esbuild bundles for the browser that TypeScript does not know.
declare module '*.css';
