// Runs a TypeScript entry of libs/bandit in plain Node (no jest): transpiles with @swc/core on require.
// Usage: node tools/bandit/run-ts.js <file.ts> [args...]   (used for benchmarks and the golden variates export)
const path = require('path');
const fs = require('fs');
const swc = require('@swc/core');
const Module = require('module');
const root = path.resolve(__dirname, '../..');
const origResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@slotwise\/([a-z-]+)$/.exec(request);
  if (m) request = path.join(root, 'libs', m[1], 'src', 'index.ts');
  return origResolve.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node tools/bandit/run-ts.js <file.ts> [args...]');
  process.exit(2);
}
require(path.resolve(entry));
