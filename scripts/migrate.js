#!/usr/bin/env node
// `npm run migration:run|revert`: build if needed, then apply or revert migrations.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const entry = join(root, 'dist/apps/api/src/database/migrate.js');
if (!existsSync(entry)) execFileSync(process.execPath, [join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [entry, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
