/**
 * The demo's ranking experiment replayed in process, to find when the Thompson variant overtakes the ranker order
 * and what slows it early (the live measurement through HTTP is bench/results/demo-30min.json).
 *
 * Same world as the demo (apps/api/src/modules/demo: EcommerceWorld seed 7, 3,600 decisions per simulated hour,
 * 48 arrivals per simulated day), same ranker (the fixture ONNX MLP), same variants: control = the ranker's top 5;
 * thompson = the default Thompson policy over the ranker's top `shortlist` (25) with the default model. Visits go to
 * a variant by a hash of the unit (50/50). Every shown slot is observed with reward 0 at decision time and corrected
 * when its click arrives (as apps/api does), 4–32 visits later (the demo's 1–8 s reward delay at 4 visits/s).
 * Reported per variant: clicks per decision and expected clicks per decision (Σ P(click) over the slate, the less
 * noisy figure), cumulative, every `every` visits (240 = one minute of demo traffic).
 *
 * Usage (after `npm run build`): node dist/bench/demo-crossover.js [--visits=7200] [--every=240] [--seed=1]
 *   [--shortlist=25] [--no-delay] [--out=file.json]
 */
import { writeFileSync } from 'node:fs';
import {
  type BanditModel,
  type Candidate,
  createModel,
  createPolicy,
  createRng,
  DEFAULT_MODEL_TYPE,
  fnv1a32,
  type ModelSpec,
} from '@slotwise/bandit';
import { OnnxScorer } from '@slotwise/ranker';
import { loadFixtureModel } from '@slotwise/ranker-fixtures';
import { EcommerceWorld } from '@slotwise/simulation';

interface Totals {
  decisions: number;
  clicks: number;
  expected: number;
}

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

async function main(): Promise<void> {
  const visits = Number(arg('visits', '7200'));
  const every = Number(arg('every', '240'));
  const seed = Number(arg('seed', '1'));
  const shortlist = Number(arg('shortlist', '25'));
  const delayed = !process.argv.includes('--no-delay');
  const out = arg('out', '');

  const world = await EcommerceWorld.create({ seed: 7, decisionsPerHour: 3600, arrivalsPerDay: 48 });
  const { bytes, signature } = loadFixtureModel('split');
  const ranker = await OnnxScorer.create(bytes, signature, { ref: 'demo-news-mlp' });
  const dims = { contextDim: world.spec.contextFeatures.length, itemDim: world.spec.itemFeatures.length };
  const model = createModel({ type: DEFAULT_MODEL_TYPE, ...dims } as ModelSpec) as BanditModel;
  const policy = createPolicy({ type: 'thompson' }, model);
  const decisionSeeds = createRng(`demo-crossover:${seed}:decisions`);
  const delays = createRng(`demo-crossover:${seed}:delays`);
  const pending: Array<{ at: number; context: Float64Array; candidate: Candidate; slot: number }> = [];
  const totals: Record<'control' | 'thompson', Totals> = {
    control: { decisions: 0, clicks: 0, expected: 0 },
    thompson: { decisions: 0, clicks: 0, expected: 0 },
  };
  const series: unknown[] = [];
  for (let v = 0; v < visits; v++) {
    while (pending.length && pending[0].at <= v) {
      const p = pending.shift()!;
      model.correct(p.context, p.candidate, 0, 1, p.slot);
    }
    const req = world.next();
    const truth = await world.truth(req);
    const n = req.candidates.length;
    const items = new Float32Array(n * dims.itemDim);
    req.candidates.forEach((c, i) => items.set(c.features, i * dims.itemDim));
    const scores = (await ranker.score(Float32Array.from(req.context), items, n)).scores;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
    const variant = fnv1a32(`demo-home-feed:${req.unitId}`) % 2 === 0 ? 'control' : 'thompson';
    const short = order.slice(0, shortlist);
    const candidates: Candidate[] = short.map((i) => ({
      id: req.candidates[i].id,
      features: Float64Array.from(req.candidates[i].features),
      rankerScore: scores[i],
    }));
    const context = Float64Array.from(req.context);
    let chosen: number[];
    if (variant === 'control') chosen = order.slice(0, world.spec.slots);
    else {
      const decision = policy.decide(
        { context, candidates, slots: world.spec.slots, propensityDraws: 0 },
        createRng(decisionSeeds.int(2 ** 31 - 1)),
      );
      chosen = decision.slots.map((s) => s.index);
    }
    const t = totals[variant];
    t.decisions++;
    chosen.forEach((k, slot) => {
      const item = variant === 'control' ? k : short[k];
      const p = truth.clickProbability(truth.eta[item], slot);
      const click = req.clickUniforms[slot] < p;
      t.expected += p;
      if (click) t.clicks++;
      if (variant !== 'thompson') return;
      model.observe(context, candidates[k], 0, slot);
      if (!click) return;
      const at = delayed ? v + 4 + Math.floor(delays.uniform() * 29) : v + 1;
      const i = pending.findIndex((q) => q.at > at);
      pending.splice(i < 0 ? pending.length : i, 0, { at, context, candidate: candidates[k], slot });
    });
    if ((v + 1) % every === 0) {
      const [c, h] = [totals.control, totals.thompson];
      const row = {
        visits: v + 1,
        minutes: (v + 1) / 240,
        control: {
          decisions: c.decisions,
          clicksPerDecision: c.clicks / c.decisions,
          expected: c.expected / c.decisions,
        },
        thompson: {
          decisions: h.decisions,
          clicksPerDecision: h.clicks / h.decisions,
          expected: h.expected / h.decisions,
        },
        ratioExpected: h.expected / h.decisions / (c.expected / c.decisions),
      };
      series.push(row);
      console.log(
        `${row.minutes.toFixed(1)} min: control ${c.decisions} decisions ${row.control.expected.toFixed(4)} | thompson ${h.decisions} decisions ${row.thompson.expected.toFixed(4)} | ratio ${row.ratioExpected.toFixed(3)}`,
      );
    }
  }
  if (out) writeFileSync(out, JSON.stringify({ seed, shortlist, delayed, model: DEFAULT_MODEL_TYPE, series }, null, 1));
  await ranker.dispose();
  await world.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
