#!/usr/bin/env node
// Compile the API, simulator and libraries to dist/ (tsc, then path aliases rewritten to relative requires),
// then build the console when it exists.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsc'), ['-p', 'tsconfig.build.json']);
run(bin('tsc-alias'), ['-p', 'tsconfig.build.json']);
if (existsSync(join(root, 'apps/console/package.json')) || existsSync(join(root, 'apps/console/vite.config.ts'))) {
  run(process.execPath, [join(root, 'scripts/build-console.js')]);
}
