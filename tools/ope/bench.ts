// "10,000 logged decisions with all estimators": prints wall times, not a test (the machine's load decides them).
// Usage: node tools/bandit/run-ts.js tools/ope/bench.ts
// Work: cross-fitted reward model (3 folds × 3 slots, Newton), IPS, SNIPS, DM, DR, SNDR, Switch-DR with normal
// intervals and 1,000-resample bootstrap intervals each, on the OBD bts-men log against the uniform-random policy.
import { Rng } from '@slotwise/bandit';
import {
  evaluatePolicy,
  fitRewardModel,
  slateIndependentIps,
  slatePseudoInverse,
  uniformActionDist,
} from '@slotwise/ope';
import { loadObd, userFeatureOneHot } from '../../libs/ope/src/testing/obd';

const log = loadObd('bts', 'men');
const n = log.action.length;
const t0 = process.hrtime.bigint();
const { context, dContext } = userFeatureOneHot(log);
const qHat = fitRewardModel(log, { nActions: 34, context, dContext, folds: 3 });
const t1 = process.hrtime.bigint();
const report = evaluatePolicy(log, uniformActionDist(34, n), {
  qHat,
  clip: 20,
  bootstrap: { rng: new Rng(1), nBootstrap: 1000 },
});
const t2 = process.hrtime.bigint();
// slate estimators on 10,000 three-slot slates (synthetic probabilities; arithmetic cost only)
const k = 3;
const rng = new Rng(2);
const reward = Float64Array.from({ length: n * k }, () => (rng.uniform() < 0.01 ? 1 : 0));
const mu = Float64Array.from({ length: n * k }, () => 0.05 + 0.2 * rng.uniform());
const pi = Float64Array.from({ length: n * k }, () => 0.05 + 0.2 * rng.uniform());
slateIndependentIps({ slots: k, reward }, mu, pi);
slatePseudoInverse({ slots: k, reward }, mu, pi);
const t3 = process.hrtime.bigint();
const ms = (a: bigint, b: bigint): string => (Number(b - a) / 1e6).toFixed(0);
console.log(
  `n = ${n}: reward model ${ms(t0, t1)} ms, six estimators with normal + bootstrap (B = 1000) intervals ${ms(t1, t2)} ms, slate IIPS + PI ${ms(t2, t3)} ms, total ${ms(t0, t3)} ms`,
);
console.log(
  report.estimates
    .map(
      (e) =>
        `${e.estimator} ${e.value.toExponential(4)} [${e.normal.lower.toExponential(3)}, ${e.normal.upper.toExponential(3)}]`,
    )
    .join('; '),
);
