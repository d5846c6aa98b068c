// Main-thread cost of a hybrid decision whose propensities go to the worker thread (issue 13), interleaved in one
// process so the machine's load affects all alike: the job as the formed covariance factor (scoreDistribution) vs as
// the covariance's inputs (scoreCovarianceInputs), each with and without a structured clone (what postMessage does).
// Also the whole decision in-thread (1,000 draws) and without propensities. Medians in µs.
// Usage: node tools/bandit/run-ts.js tools/bandit/bench-propensity-job.ts
import { Rng, hybridDecisionFixture } from '@slotwise/bandit';

const { model, policy, requests: reqs } = hybridDecisionFixture({ propensityDraws: 1000 });
const now = () => performance.now() * 1000;
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const T = {
  inline: [] as number[],
  none: [] as number[],
  oldJob: [] as number[],
  newJob: [] as number[],
  newJobClone: [] as number[],
  oldJobClone: [] as number[],
};
let seed = 0;
for (let round = 0; round < 40; round++) {
  for (let t = 0; t < 16; t++) {
    const r = reqs[t];
    let s = now();
    policy.decide(r, new Rng(seed));
    T.inline.push(now() - s);
    s = now();
    policy.decide({ ...r, propensityDraws: 0 }, new Rng(seed));
    T.none.push(now() - s);
    // old: decision (no propensities) + the formed distribution (prepare again is avoided: emulate via scorer)
    s = now();
    const sc = model.prepare(r.context, r.candidates);
    sc.draw(new Rng(seed));
    const dist = sc.scoreDistribution!();
    const e1 = now();
    structuredClone(dist);
    const e2 = now();
    T.oldJob.push(e1 - s);
    T.oldJobClone.push(e2 - s);
    s = now();
    const sc2 = model.prepare(r.context, r.candidates);
    sc2.draw(new Rng(seed));
    const inp = sc2.scoreCovarianceInputs!();
    const f1 = now();
    structuredClone(inp);
    const f2 = now();
    T.newJob.push(f1 - s);
    T.newJobClone.push(f2 - s);
    seed++;
  }
}
const out = Object.fromEntries(Object.entries(T).map(([k, v]) => [k, Math.round(med(v))]));
console.log(JSON.stringify(out));
