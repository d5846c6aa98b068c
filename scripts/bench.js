#!/usr/bin/env node
// `npm run bench`: build, then run the benchmarks (bench/run.ts compiled to dist/bench/run.js);
// `npm run bench -- scale-out`: only the single server vs Citus comparison (see bench/run.ts).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const root = join(__dirname, '..');
execFileSync(process.execPath, [join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'dist/bench/run.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
