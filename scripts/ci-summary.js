#!/usr/bin/env node
// Sum jest --json reports and print CI's closing line: "N passed, N failed, N skipped".
// Exit 1 when any test or suite failed, or when a report is missing or empty.
const { readFileSync, existsSync } = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
let problems = 0;
const files = process.argv.slice(2).filter((f) => !f.includes('*'));
if (files.length === 0) problems++;
for (const file of files) {
  if (!existsSync(file)) {
    problems++;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  // A suite that fails to load has no failing test but must still fail CI.
  failed += report.numRuntimeErrorTestSuites ?? 0;
  if (report.numTotalTests === 0) problems++;
}
console.log(`${passed} passed, ${failed + problems} failed, ${skipped} skipped`);
process.exit(failed + problems > 0 ? 1 : 0);
