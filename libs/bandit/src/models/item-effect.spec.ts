import golden from '../__golden__/item-effect.json';
import { createRng } from '../rng';
import { expectClose } from '../testing';
import { ITEM_EFFECT_PRECISION_MAX, LinearModel, type LinearSnapshot } from './linear';

/** The golden log (tools/bandit/gen_item_effect_golden.py): 3 slots, items 0, 1, 2 share their features. */
const rows = golden.rows as Array<{ context: number[]; item: number; slot: number; reward: number }>;
const candidate = (a: number) => ({ id: `item-${a}`, features: golden.items[a] });
const candidates = golden.items.map((_, a) => candidate(a));

function fitted(itemEffect: 'intercept' | 'twins' | 'none', part: (i: number) => boolean = () => true): LinearModel {
  const m = LinearModel.create({
    contextDim: golden.contextDim,
    itemDim: golden.itemDim,
    itemEffect,
    itemEffectPrecision: golden.prior.itemEffectPrecision,
  });
  // Default reward accounting: every slot is observed with 0 at decision time, clicks arrive as corrections.
  rows.forEach((r, i) => part(i) && m.observe(r.context, candidate(r.item), 0, r.slot));
  rows.forEach((r, i) => part(i) && r.reward !== 0 && m.correct(r.context, candidate(r.item), 0, r.reward, r.slot));
  m.estimateExamination();
  return m;
}

describe('LinearModel per-item effect (itemEffect "intercept")', () => {
  it('per-item intercept posterior, score means, covariance and sds equal the NumPy two-stage fit (1e-9)', () => {
    const m = fitted('intercept');
    expectClose(
      [0, 1, 2].map((k) => m.examination(k)),
      golden.kappa,
      1e-9,
      'kappa',
    );
    expectClose(Array.from(m.noiseScales(candidates)!), golden.noiseScale, 1e-9, 'noise scale');
    const fx = m.itemEffects(candidates)!;
    // λ_δ by empirical Bayes (method of moments over the candidates), inside its bounds here
    expect(fx.precision).toBeCloseTo(golden.lambdaItem, 9);
    expect(golden.lambdaItem).toBeGreaterThan(golden.prior.itemEffectPrecision);
    expect(golden.lambdaItem).toBeLessThan(golden.prior.itemEffectPrecisionMax);
    expect(ITEM_EFFECT_PRECISION_MAX).toBe(golden.prior.itemEffectPrecisionMax);
    expectClose(Array.from(fx.mean), golden.effectMean, 1e-9, 'effect mean');
    expectClose(Array.from(fx.variance), golden.effectVariance, 1e-9, 'effect variance');
    const scorer = m.prepare(golden.probe, candidates);
    expectClose(Array.from(scorer.mean), golden.scoreMean, 1e-9, 'score mean');
    expectClose(Array.from(scorer.covariance!()), golden.covariance, 1e-9, 'covariance');
    expectClose(
      candidates.map((_, i) => scorer.sdOf(i)),
      golden.scoreSd,
      1e-9,
      'score sd',
    );
  });

  it('regression (OBD item-17): feature twins are indistinguishable without the per-item term, ranked by their own rewards with it', () => {
    // Before: scores linear in the item features only, so items 0, 1, 2 (same features) always got the same mean.
    const none = fitted('none').prepare(golden.probe, candidates);
    expect(none.mean[1]).toBe(none.mean[0]);
    expect(none.mean[2]).toBe(none.mean[0]);
    expectClose(Array.from(none.mean), golden.scoreMeanWithoutItemEffect, 1e-9);
    // With the per-item intercept the twins are ordered as their true effects (+1.2 for item 1, −1.2 for item 2).
    const withEffect = fitted('intercept').prepare(golden.probe, candidates);
    expect(withEffect.mean[1]).toBeGreaterThan(withEffect.mean[0]);
    expect(withEffect.mean[0]).toBeGreaterThan(withEffect.mean[2]);
    // and their draws are no longer perfectly correlated: each twin has its own exploration term
    const S = withEffect.covariance!();
    const n = candidates.length;
    expect(S[0 * n + 1] / Math.sqrt(S[0] * S[n + 1])).toBeLessThan(0.99);
  });

  it('draw(): β from (gamma, d normals) as without the term, then one normal per candidate for δ', () => {
    const m = fitted('intercept');
    const scorer = m.prepare(golden.probe, candidates);
    const drawn = scorer.draw(createRng(42));
    const rng = createRng(42);
    const g = rng.gamma(m.an(), 1);
    const beta = m.coefficientsFromVariates(g, rng.normals(new Float64Array(m.d)));
    const zeta = rng.normals(new Float64Array(candidates.length));
    const sigma = Math.sqrt(m.bn() / g);
    const mu = m.posteriorMean();
    const expected = candidates.map((c, i) => {
      const x = m.encode(golden.probe, c);
      let xb = 0,
        xm = 0;
      for (let j = 0; j < m.d; j++) {
        xb += x[j] * beta[j];
        xm += x[j] * mu[j];
      }
      return (
        golden.scoreMean[i] + golden.noiseScale[i] * (xb - xm) + sigma * Math.sqrt(golden.effectVariance[i]) * zeta[i]
      );
    });
    expectClose(Array.from(drawn), expected, 1e-9);
  });

  it('the per-item sums are additive: a snapshot and a two-replica merge give the same effects; old snapshots have none', () => {
    const whole = fitted('intercept');
    const want = whole.itemEffects(candidates)!;
    const restored = LinearModel.fromSnapshot(whole.snapshot());
    const a = fitted('intercept', (i) => i % 2 === 0);
    const b = fitted('intercept', (i) => i % 2 === 1);
    a.takeDelta();
    a.mergeDelta(b.takeDelta());
    // a merge continues κ from the replica's own (KAPPA_WARM_ROUNDS); re-estimated from κ = 1 it is the load's
    a.estimateExamination();
    for (const m of [restored, a]) {
      const got = m.itemEffects(candidates)!;
      expectClose(Array.from(got.mean), Array.from(want.mean), 1e-9);
      expectClose(Array.from(got.variance), Array.from(want.variance), 1e-9);
    }
    expect(Object.keys(whole.snapshot().stats.itemSlots?.['item-1'] ?? {})).toEqual(['1', '2']);
    // a snapshot written before the per-item term existed (no itemEffect in its config) keeps scoring without it
    const old = whole.snapshot() as LinearSnapshot;
    delete old.config.itemEffect;
    delete old.stats.itemSlots;
    expect(LinearModel.fromSnapshot(old).itemEffects(candidates)).toBeNull();
    // the default is 'twins'; 'none' is stored as no itemEffect key, as before the term existed
    expect(LinearModel.create({ contextDim: 2, itemDim: 2 }).config.itemEffect).toBe('twins');
    const plain = LinearModel.create({ contextDim: 2, itemDim: 2, itemEffect: 'none' });
    expect(plain.itemEffects(candidates)).toBeNull();
    expect('itemEffect' in plain.config).toBe(false);
    expect(() =>
      LinearModel.create({ contextDim: 2, itemDim: 2, itemEffect: 'intercept', itemEffectPrecision: 0 }),
    ).toThrow(/itemEffectPrecision/);
  });
});

describe('itemEffect "twins" (the default): the per-item intercept for feature twins only', () => {
  it('twins get the NumPy two-stage effect, the other candidates none (1e-9)', () => {
    const m = fitted('twins');
    expect(Array.from(m.featureTwins(candidates))).toEqual(golden.twins);
    const fx = m.itemEffects(candidates)!;
    expect(fx.precision).toBeCloseTo(golden.lambdaItem, 9); // λ_δ still estimated over all candidates
    expect(Array.from(fx.drawn)).toEqual(golden.twins);
    expectClose(
      Array.from(fx.mean),
      golden.effectMean.map((v, a) => (golden.twins.includes(a) ? v : 0)),
      1e-9,
      'effect mean',
    );
    const scorer = m.prepare(golden.probe, candidates);
    expectClose(Array.from(scorer.mean), golden.twinsScoreMean, 1e-9, 'score mean');
    expectClose(Array.from(scorer.covariance!()), golden.twinsCovariance, 1e-9, 'covariance');
    expectClose(
      candidates.map((_, i) => scorer.sdOf(i)),
      golden.twinsScoreSd,
      1e-9,
      'score sd',
    );
  });

  it('a request without twins is byte-identical to "none": the same scores, re-draws and variates consumed', () => {
    // items 2–7: item 2 shares its features with items 0 and 1 only, so this request has no twins
    const twinFree = candidates.slice(2);
    const [twins, none] = [fitted('twins'), fitted('none')];
    expect(twins.featureTwins(twinFree).length).toBe(0);
    expect(twins.itemEffects(twinFree)).toBeNull();
    const [a, b] = [twins.prepare(golden.probe, twinFree), none.prepare(golden.probe, twinFree)];
    const [ra, rb] = [createRng(7), createRng(7)];
    expect(a.draw(ra)).toEqual(b.draw(rb));
    const [oa, ob] = [new Float64Array(twinFree.length * 8), new Float64Array(twinFree.length * 8)];
    a.redrawPairs!(ra, 4, oa);
    b.redrawPairs!(rb, 4, ob);
    expect(oa).toEqual(ob);
    expect(ra.uniform()).toBe(rb.uniform()); // the stream continues at the same place
  });

  it('with twins: the non-twins score exactly as "none", ζ is drawn for the twins only', () => {
    const [m, none] = [fitted('twins'), fitted('none')];
    const drawn = m.prepare(golden.probe, candidates).draw(createRng(42));
    const plain = none.prepare(golden.probe, candidates).draw(createRng(42));
    const rng = createRng(42);
    const g = rng.gamma(m.an(), 1);
    rng.normals(new Float64Array(m.d));
    const zeta = rng.normals(new Float64Array(golden.twins.length));
    const sigma = Math.sqrt(m.bn() / g);
    candidates.forEach((_, i) => {
      const j = golden.twins.indexOf(i);
      if (j < 0) expect(drawn[i]).toBe(plain[i]);
      else
        expect(drawn[i]).toBeCloseTo(
          plain[i] + golden.effectMean[i] + sigma * Math.sqrt(golden.effectVariance[i]) * zeta[j],
          9,
        );
    });
  });

  it('absent item features count as zeros when finding twins', () => {
    const m = LinearModel.create({ contextDim: 2, itemDim: 2 });
    const got = m.featureTwins([{ id: 'a' }, { id: 'b', features: [0, 0] }, { id: 'c', features: [1, 0] }]);
    expect(Array.from(got)).toEqual([0, 1]);
  });
});
