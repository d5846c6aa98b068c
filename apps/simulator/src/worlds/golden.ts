/** A world's trajectory summarized (for the golden-file determinism tests). */
import { oracleSlate, round, slateValue } from '../metrics';
import type { World } from '../world';

export async function worldSummary(world: World, requests: number): Promise<Record<string, unknown>> {
  let contextSum = 0;
  let featureSum = 0;
  let candidates = 0;
  let etaSum = 0;
  let oracleSum = 0;
  let firstKSum = 0;
  let oracleClicks = 0;
  let lagSum = 0;
  const units = new Set<string>();
  const first = world.next();
  const reqs = [first, ...Array.from({ length: requests - 1 }, () => world.next())];
  for (const r of reqs) {
    units.add(r.unitId);
    contextSum += r.context.reduce((a, b) => a + b, 0);
    for (const c of r.candidates) featureSum += c.features.reduce((a, b) => a + b, 0);
    candidates += r.candidates.length;
    lagSum += r.lags.reduce((a, b) => a + b, 0);
    const truth = await world.truth(r);
    etaSum += truth.eta.reduce((a, b) => a + b, 0);
    const oracle = oracleSlate(truth, world.spec.slots);
    oracleSum += oracle.value;
    firstKSum += slateValue(
      truth,
      r.candidates.slice(0, world.spec.slots).map((_, i) => i),
    );
    oracle.slate.forEach(
      (c, j) => (oracleClicks += r.clickUniforms[j] < truth.clickProbability(truth.eta[c], j) ? 1 : 0),
    );
  }
  return {
    world: world.spec.world,
    requests,
    contextFeatures: world.spec.contextFeatures.length,
    itemFeatures: world.spec.itemFeatures.length,
    ranker: world.spec.ranker,
    firstUnit: first.unitId,
    firstCandidates: first.candidates.slice(0, 3).map((c) => c.id),
    distinctUnits: units.size,
    arrivals: world.arrivals.size,
    lastTime: round(reqs[reqs.length - 1].time, 3),
    meanCandidates: round(candidates / requests, 6),
    contextSum: round(contextSum, 6),
    featureSum: round(featureSum, 4),
    meanEta: round(etaSum / candidates, 6),
    oracleValuePerRequest: round(oracleSum / requests, 6),
    firstKValuePerRequest: round(firstKSum / requests, 6),
    oracleClicks,
    meanLag: round(lagSum / (requests * world.spec.slots), 4),
  };
}
