import {
  assertLayerExclusive,
  layerPlacement,
  layerShares,
  planLayer,
  validateLayer,
  validatePlacement,
  type Layer,
} from './layers';
import { compileExperiment, type AssignableExperiment, type AssignmentReason } from './assign';
import { bucketOf } from './hash';
import { diffAllocations } from './ranges';
import { pearsonChiSquare } from './chi2';
import { unitIds } from './__testutil__/ids';

const plan = (holdoutPercent: number, experiments: [string, number][]) => ({
  key: 'home',
  holdoutPercent,
  experiments: experiments.map(([key, percent]) => ({ key, percent })),
});

describe('planLayer', () => {
  it('fresh layout: holdout first, then experiments in order, the rest free', () => {
    const layer = planLayer(
      undefined,
      plan(10, [
        ['A', 30],
        ['B', 30],
        ['C', 20],
      ]),
    );
    expect(layer).toEqual({
      key: 'home',
      salt: undefined,
      hashVersion: 1,
      holdout: [{ start: 0, end: 1000 }],
      experiments: {
        A: [{ start: 1000, end: 4000 }],
        B: [{ start: 4000, end: 7000 }],
        C: [{ start: 7000, end: 9000 }],
      },
    });
    expect(layerShares(layer)).toEqual({ holdoutPercent: 10, experiments: { A: 30, B: 30, C: 20 } });
    expect(validateLayer(layer)).toEqual([]);
  });

  it('growing an experiment only adds units; removing one frees its buckets for the next', () => {
    const l1 = planLayer(
      undefined,
      plan(10, [
        ['A', 30],
        ['B', 30],
        ['C', 20],
      ]),
    );
    const l2 = planLayer(
      l1,
      plan(10, [
        ['A', 40],
        ['B', 30],
        ['C', 20],
      ]),
    );
    expect(l2.experiments.A).toEqual([
      { start: 1000, end: 4000 },
      { start: 9000, end: 10000 },
    ]);
    const d = diffAllocations({ h: l1.holdout, ...l1.experiments }, { h: l2.holdout, ...l2.experiments });
    expect(d).toEqual({
      changes: [{ from: null, to: 'A', range: { start: 9000, end: 10000 } }],
      reassigned: 0,
      added: 1000,
      removed: 0,
    });
    const l3 = planLayer(
      l2,
      plan(10, [
        ['A', 40],
        ['C', 20],
        ['D', 25],
      ]),
    );
    expect(l3.experiments).toEqual({
      A: [
        { start: 1000, end: 4000 },
        { start: 9000, end: 10000 },
      ],
      C: [{ start: 7000, end: 9000 }],
      D: [{ start: 4000, end: 6500 }],
    });
    assertLayerExclusive(l3);
    expect(() =>
      planLayer(
        l3,
        plan(10, [
          ['A', 40],
          ['C', 30],
          ['D', 25],
        ]),
      ),
    ).toThrow(RangeError);
  });

  it('validateLayer finds overlaps with the holdout and between experiments', () => {
    const bad = {
      key: 'home',
      holdout: [{ start: 0, end: 1000 }],
      experiments: { A: [{ start: 900, end: 2000 }], B: [{ start: 1500, end: 1600 }] },
    };
    expect(validateLayer(bad)).toEqual([
      { path: 'layer.experiments.A[0]', message: 'overlaps the buckets of the holdout at bucket 900' },
      { path: 'layer.experiments.B[0]', message: 'overlaps the buckets of experiment "A" at bucket 1500' },
    ]);
    expect(() => assertLayerExclusive(bad as Layer)).toThrow(RangeError);
    expect(
      validatePlacement({ key: 'home', ranges: [{ start: 0, end: 10 }], holdout: [{ start: 5, end: 6 }] }),
    ).toEqual([{ path: 'layer.holdout[0]', message: 'overlaps the buckets of this experiment at bucket 5' }]);
    expect(validateLayer({ key: 'home', hashVersion: 3, holdout: {}, experiments: [] }).map((e) => e.path)).toEqual([
      'layer.hashVersion',
      'layer.holdout',
      'layer.experiments',
    ]);
  });
});

describe('layer exclusivity over 100,000 ids', () => {
  const layer = planLayer(undefined, {
    ...plan(10, [
      ['A', 30],
      ['B', 30],
      ['C', 20],
    ]),
    salt: 'home-layer-v1',
  });
  const experiment = (key: string): AssignableExperiment => ({
    key,
    status: 'running',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
    layer: layerPlacement(layer, key),
  });
  const compiled = ['A', 'B', 'C'].map((k) => compileExperiment(experiment(k)));
  const ids = unitIds(100_000, 11);

  it('every unit is in at most one experiment; holdout units in none; shares fit the layout (χ²)', () => {
    const reasons: Record<string, number> = {};
    const owner = [0, 0, 0, 0, 0]; // A, B, C, holdout, free
    const split = compiled.map(() => [0, 0]);
    let violations = 0;
    for (const id of ids) {
      const results = compiled.map((c) => c.assign(id));
      const inside = results.map((r, i) => (r.inExperiment ? i : -1)).filter((i) => i >= 0);
      if (inside.length > 1) violations++;
      const holdout = results[0].reason === 'holdout';
      for (const r of results) if ((r.reason === 'holdout') !== holdout) violations++;
      for (const r of results) reasons[r.reason ?? 'in'] = (reasons[r.reason ?? 'in'] ?? 0) + 1;
      if (holdout) owner[3]++;
      else if (inside.length === 1) {
        owner[inside[0]]++;
        split[inside[0]][results[inside[0]].variant === 'control' ? 0 : 1]++;
      } else owner[4]++;
      // The layer bucket decides: recompute independently.
      const lb = bucketOf('home-layer-v1', id);
      const expected = lb < 1000 ? 3 : lb < 4000 ? 0 : lb < 7000 ? 1 : lb < 9000 ? 2 : 4;
      if ((holdout ? 3 : inside.length === 1 ? inside[0] : 4) !== expected) violations++;
    }
    expect(violations).toBe(0);
    const r = pearsonChiSquare(owner, [30, 30, 20, 10, 10]);
    console.log(
      `layer shares ${JSON.stringify(owner)}: χ²=${r.chiSquare.toFixed(2)} df=${r.df} p=${r.pValue.toFixed(4)}; reasons ${JSON.stringify(reasons)}`,
    );
    expect(r.pValue).toBeGreaterThan(0.001);
    // The variant hash (experiment salt) is independent of the layer hash: 50/50 inside each experiment.
    split.forEach((s, i) => {
      const c = pearsonChiSquare(s, [1, 1]);
      console.log(`variant split inside layer experiment ${'ABC'[i]} ${JSON.stringify(s)}: p=${c.pValue.toFixed(4)}`);
      expect(c.pValue).toBeGreaterThan(0.001);
    });
    expect(Object.keys(reasons).sort()).toEqual(['holdout', 'in', 'layer'].sort() as (AssignmentReason | 'in')[]);
  });
});
