#!/usr/bin/env node
// Entry point of the `floe` command. The sources are TypeScript run through
// tsx's loader, so a fresh `npm install` needs no build step. The loader is
// given the project's tsconfig.json by path: `floe` runs from any directory
// (floe demo starts its processes in the demo's), and the key center's pages
// need its JSX settings.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
