#!/usr/bin/env node
// Entry point of the `floe` command. The sources are TypeScript run through
// tsx's loader, so a fresh `npm install` needs no build step. The loader is
// given the project's tsconfig.json by path: `floe` runs from any directory
// (floe demo starts its processes in the demo's), and the key center's pages
// need its JSX settings.
//
// Plain JavaScript that any Node.js can parse: it checks the Node.js version
// before loading anything else, so an old Node.js gets one clear line
// (NODE_TOO_OLD) instead of a syntax or loader error from deep inside.

/** The oldest Node.js major version floe runs on (package.json "engines"). */
const NODE_MAJOR_MIN = 20;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NODE_MAJOR_MIN)) {
  process.stderr.write(
    `NODE_TOO_OLD: floe needs Node.js ${NODE_MAJOR_MIN} or later; ${process.execPath} is Node.js ${process.versions.node}. ` +
      `Install Node.js ${NODE_MAJOR_MIN} or later and make it the "node" on the PATH (docs/install.md).\n`,
  );
  process.exit(1);
}

const { fileURLToPath } = await import('node:url');
const { register } = await import('tsx/esm/api');
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
