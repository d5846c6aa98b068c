#!/usr/bin/env node
// `npm run simulate -- …`: runs the built simulator (dist/apps/simulator/src/main.js), building first when it is missing.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'apps', 'simulator', 'src', 'main.js');
const api = join(root, 'dist', 'apps', 'api', 'src', 'main.js');
if (!existsSync(entry) || !existsSync(api)) {
  process.stderr.write('[simulate] building (node scripts/build.js)…\n');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
}
try {
  execFileSync(process.execPath, [entry, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
} catch (err) {
  process.exit(typeof err.status === 'number' ? err.status : 1);
}
