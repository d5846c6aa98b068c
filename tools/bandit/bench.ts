// Prints the bandit micro-benchmarks as JSON: node tools/bandit/run-ts.js tools/bandit/bench.ts
import { runBanditBench } from '@slotwise/bandit';

console.log(JSON.stringify(runBanditBench(), null, 2));
