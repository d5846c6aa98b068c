#!/usr/bin/env node
// Build the console SPA (apps/console) into dist/console: type-check with its own tsconfig, then Vite.
// Called by scripts/build.js; the browser tests call it when dist/console is missing.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsc'), ['--noEmit', '-p', 'apps/console/tsconfig.json']);
run(bin('vite'), ['build', '--config', 'apps/console/vite.config.ts', '--logLevel', 'warn']);
process.stdout.write(`console built into ${join('dist', 'console')}\n`);
