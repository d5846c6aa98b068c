import { nonFiniteStatistic, posteriorHealth } from './health';
import { HybridModel } from './models/hybrid';
import { LinearModel } from './models/linear';

describe('posterior health', () => {
  const hybrid = () => {
    const m = HybridModel.create({ contextDim: 1, itemDim: 1 });
    m.observe([1], { id: 'a', features: [2] }, 1);
    m.observe([0], { id: 'b', features: [1] }, 0);
    return m.snapshot();
  };

  it('finds the first non-finite statistic by path (arrays, typed arrays, nested items)', () => {
    expect(nonFiniteStatistic({ n: 1, xr: [0, 1] })).toBeNull();
    expect(nonFiniteStatistic({ n: 1, items: { a: { xr: [0, Infinity] } } })).toBe('items.a.xr[1]');
    expect(nonFiniteStatistic({ zz: Float64Array.of(1, NaN) })).toBe('zz[1]');
    expect(nonFiniteStatistic(NaN)).toBe('(root)');
  });

  it('accepts a posterior built from observations', () => {
    expect(posteriorHealth(hybrid())).toEqual({ healthy: true });
  });

  it('rejects non-finite statistics', () => {
    const s = hybrid();
    s.stats.items.a.xr[0] = NaN;
    expect(posteriorHealth(s)).toEqual({ healthy: false, reason: 'statistic items.a.xr[0] is not a finite number' });
  });

  it('rejects a precision that is not positive definite (shared and per-item statistics that disagree)', () => {
    // Item rows holding observations the shared ZᵀZ lacks: A0 = λI + ZᵀZ − Σ B_aᵀA_a⁻¹B_a loses positive definiteness.
    const s = hybrid();
    const more = HybridModel.create({ contextDim: 1, itemDim: 1 });
    for (let i = 0; i < 20; i++) more.observe([1], { id: 'a', features: [2] }, 1);
    s.stats.items.a = more.snapshot().stats.items.a;
    const health = posteriorHealth(s);
    expect(health.healthy).toBe(false);
    expect((health as { reason: string }).reason).toMatch(/not positive definite/);
    const linear = LinearModel.create({ contextDim: 1, itemDim: 1 }).snapshot();
    linear.stats.xx[0] = -10;
    expect(posteriorHealth(linear)).toMatchObject({
      healthy: false,
      reason: expect.stringMatching(/not positive definite/),
    });
  });
});
