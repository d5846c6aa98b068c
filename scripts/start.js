#!/usr/bin/env node
// `npm start`: build when the sources are newer than dist/, then run the API.
const { execFileSync, spawn } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist/apps/api/src/main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entryName of readdirSync(dir, { withFileTypes: true })) {
    if (entryName.name === 'node_modules' || entryName.name === 'dist' || entryName.name.startsWith('.')) continue;
    const p = join(dir, entryName.name);
    newest = Math.max(newest, entryName.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const sources = Math.max(
  newestMtime(join(root, 'apps')),
  newestMtime(join(root, 'libs')),
  statSync(join(root, 'package.json')).mtimeMs,
);
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stdout.write('Building Slotwise (first start or sources changed)…\n');
  execFileSync(process.execPath, [join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' });
}
const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
