#!/usr/bin/env node
// `npm run showdown [-- --quick …]`: the learning-quality showdown (apps/simulator/src/showdown/main.ts), run from
// the TypeScript sources through tools/bandit/run-ts.js (SWC transpiles on require, so no full build is needed).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
try {
  execFileSync(
    process.execPath,
    [
      join(root, 'tools', 'bandit', 'run-ts.js'),
      join(root, 'apps', 'simulator', 'src', 'showdown', 'main.ts'),
      ...process.argv.slice(2),
    ],
    { cwd: root, stdio: 'inherit' },
  );
} catch (err) {
  process.exit(typeof err.status === 'number' ? err.status : 1);
}
