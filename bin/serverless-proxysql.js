#!/usr/bin/env node
/* global require, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher for Node, not TypeScript */
'use strict';
// Launcher of the serverless-proxysql CLI (cli/main.ts).
// In a checkout (cli/main.ts present and the tsx devDependency installed) it runs the TypeScript source
// in-process through tsx's CommonJS hook: no build step, and no stale dist/ after an edit. In an installed
// package (no tsx) it runs the compiled dist/cli/main.js from `npm run build`. In-process rather than
// `tsx cli/main.ts` as a child: SIGINT/SIGTERM reach `local`'s handlers directly and the exit status is ours.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const source = path.join(root, 'cli', 'main.ts');
const built = path.join(root, 'dist', 'cli', 'main.js');

function tsxRegister() {
  try {
    return require('tsx/cjs/api').register;
  } catch {
    return undefined;
  }
}

let entry;
const register = fs.existsSync(source) ? tsxRegister() : undefined;
if (register) {
  register();
  entry = source;
} else if (fs.existsSync(built)) {
  entry = built;
} else {
  process.stderr.write(
    'serverless-proxysql: neither the TypeScript source with tsx (npm install) nor dist/cli/main.js (npm run build) is available\n',
  );
  process.exit(1);
}
require(entry).run(process.argv.slice(2));
