import {
  assign,
  compileExperiment,
  rampVariants,
  trafficBuckets,
  validateAssignable,
  type AssignableExperiment,
} from './assign';
import { bucketOf, trafficSalt } from './hash';
import { layerPlacement, planLayer } from './layers';
import { rangesSize, type Allocation } from './ranges';
import { pearsonChiSquare } from './chi2';
import { unitIds } from './__testutil__/ids';

const base: AssignableExperiment = {
  key: 'home-feed',
  status: 'running',
  trafficPercent: 100,
  variants: [
    { key: 'control', weight: 50 },
    { key: 'ts', weight: 50 },
  ],
};

const IDS = unitIds(100_000, 2024);

describe('assign: reasons and order of checks', () => {
  it('assigns a running experiment, deterministically, with the variant bucket', () => {
    const a = assign(base, 'u-42');
    expect(a).toEqual({
      inExperiment: true,
      variant: expect.any(String),
      reason: null,
      bucket: bucketOf('home-feed', 'u-42'),
    });
    expect(assign(base, 'u-42')).toEqual(a);
    expect(a.variant).toBe(a.bucket < 5000 ? 'control' : 'ts');
  });

  it.each(['draft', 'paused', 'stopped'])('status %s → not_running (forced units too)', (status) => {
    const a = assign({ ...base, status, forcedVariants: { 'u-1': 'ts' } }, 'u-1');
    expect(a).toEqual({
      inExperiment: false,
      variant: null,
      reason: 'not_running',
      bucket: bucketOf('home-feed', 'u-1'),
    });
  });

  it('forced variants win over targeting, layers and traffic', () => {
    const layer = planLayer(undefined, { key: 'L', holdoutPercent: 100, experiments: [] });
    const exp: AssignableExperiment = {
      ...base,
      trafficPercent: 0,
      targeting: { op: 'exists', attr: 'never' },
      forcedVariants: { 'qa-1': 'ts', 'qa-2': 'control' },
      layer: { key: 'L', ranges: [], holdout: layer.holdout },
    };
    expect(assign(exp, 'qa-1')).toMatchObject({ inExperiment: true, variant: 'ts', reason: 'forced' });
    expect(assign(exp, 'qa-2')).toMatchObject({ inExperiment: true, variant: 'control', reason: 'forced' });
    expect(assign(exp, 'someone')).toMatchObject({ inExperiment: false, variant: null, reason: 'targeting' });
    expect(assign({ ...exp, targeting: null }, 'someone')).toMatchObject({ reason: 'holdout' });
    expect(assign({ ...exp, targeting: null, layer: { key: 'L', ranges: [] } }, 'someone')).toMatchObject({
      reason: 'layer',
    });
    expect(assign({ ...exp, targeting: null, layer: null }, 'someone')).toMatchObject({ reason: 'traffic' });
  });

  it('targeting uses the attributes', () => {
    const exp: AssignableExperiment = { ...base, targeting: { op: 'in', attr: 'country', value: ['US', 'CA'] } };
    const c = compileExperiment(exp);
    expect(c.assign('u-1', { country: 'US' }).inExperiment).toBe(true);
    expect(c.assign('u-1', { country: 'FR' })).toMatchObject({
      inExperiment: false,
      reason: 'targeting',
      variant: null,
    });
    expect(c.assign('u-1')).toMatchObject({ reason: 'targeting' });
  });

  it('a zero-weight variant gets no units but can be forced', () => {
    const exp: AssignableExperiment = {
      ...base,
      variants: [...base.variants, { key: 'off', weight: 0 }],
      forcedVariants: { qa: 'off' },
    };
    const c = compileExperiment(exp);
    expect(IDS.slice(0, 5000).some((id) => c.assign(id).variant === 'off')).toBe(false);
    expect(c.assign('qa').variant).toBe('off');
  });

  it('rejects invalid definitions with field paths', () => {
    const bad = {
      key: '',
      status: 3,
      hashVersion: 2,
      trafficPercent: 120,
      variants: [{ key: 'a', weight: -1 }, { key: 'a', weight: 1 }, 'x'],
      forcedVariants: { u: 'nope' },
      targeting: { op: 'eq', attr: 'x' },
      layer: { key: 'L', ranges: [{ start: 5, end: 1 }] },
    };
    expect(validateAssignable(bad).map((e) => e.path)).toEqual([
      'key',
      'status',
      'hashVersion',
      'trafficPercent',
      'variants[0].weight',
      'variants[1].key',
      'variants[2]',
      'targeting.value',
      'layer.ranges[0].end',
    ]);
    expect(() => compileExperiment(bad as unknown as AssignableExperiment)).toThrow(/trafficPercent must be a number/);
    // Forced variants are checked against the variants once those are valid.
    expect(validateAssignable({ ...base, forcedVariants: { u: 'nope', v: 'ts' } })).toEqual([
      { path: 'forcedVariants.u', message: 'must be the key of a variant' },
    ]);
    expect(validateAssignable({ ...base, variants: [{ key: 'a', weight: 0 }] })).toEqual([
      { path: 'variants', message: 'weights must not all be 0' },
    ]);
    const wrong: Allocation = { control: [{ start: 0, end: 4000 }], ts: [{ start: 4000, end: 10000 }] };
    expect(validateAssignable({ ...base, allocation: wrong })).toEqual([
      {
        path: 'allocation.control',
        message: 'holds 4000 buckets but the weights give it 5000; ramp with rampVariants',
      },
      { path: 'allocation.ts', message: 'holds 6000 buckets but the weights give it 5000; ramp with rampVariants' },
    ]);
    expect(validateAssignable({ ...base, allocation: { ...wrong, other: [] } }).map((e) => e.path)).toContain(
      'allocation.other',
    );
  });
});

describe('χ² split over 100,000 ids for several weight vectors', () => {
  const vectors: number[][] = [
    [50, 50],
    [10, 90],
    [1, 1, 1],
    [70, 20, 5, 5],
    [1, 99],
    [25, 25, 25, 25],
    [33.3, 33.3, 33.4],
    [5, 10, 15, 20, 50],
  ];
  it.each(vectors.map((w) => [w.join('/'), w] as const))('weights %s', (_name, weights) => {
    const exp: AssignableExperiment = {
      ...base,
      key: `chi-${weights.join('-')}`,
      variants: weights.map((weight, i) => ({ key: `v${i}`, weight })),
    };
    const c = compileExperiment(exp);
    const index = new Map(exp.variants.map((v, i) => [v.key, i]));
    const counts = new Array<number>(weights.length).fill(0);
    for (const id of IDS) counts[index.get(c.assign(id).variant as string) as number]++;
    // Expected proportions are the bucket shares (the weights rounded to 1/10,000).
    const shares = exp.variants.map((v) => rangesSize(c.allocation[v.key]));
    const r = pearsonChiSquare(counts, shares);
    console.log(
      `weights ${weights.join('/')}: counts ${counts.join('/')} χ²=${r.chiSquare.toFixed(3)} df=${r.df} p=${r.pValue.toFixed(4)}`,
    );
    expect(r.pValue).toBeGreaterThan(0.001);
  });

  it('traffic 30% keeps 30% of units (χ²) and the split inside traffic stays 50/50 (χ²)', () => {
    const c = compileExperiment({ ...base, key: 'chi-traffic', trafficPercent: 30 });
    let inTraffic = 0;
    const split = [0, 0];
    for (const id of IDS) {
      const a = c.assign(id);
      if (a.inExperiment) {
        inTraffic++;
        split[a.variant === 'control' ? 0 : 1]++;
      }
    }
    const t = pearsonChiSquare([inTraffic, IDS.length - inTraffic], [30, 70]);
    const s = pearsonChiSquare(split, [1, 1]);
    console.log(
      `traffic 30%: in ${inTraffic} p=${t.pValue.toFixed(4)}; split ${split.join('/')} p=${s.pValue.toFixed(4)}`,
    );
    expect(t.pValue).toBeGreaterThan(0.001);
    expect(s.pValue).toBeGreaterThan(0.001);
  });
});

describe('ramps: exactly what moves', () => {
  it('traffic increases only add units, and units keep their variant', () => {
    const steps = [1, 5, 10, 25, 50, 100];
    let previous: Map<string, string> | null = null;
    for (const p of steps) {
      const c = compileExperiment({ ...base, key: 'ramp-traffic', trafficPercent: p });
      const now = new Map<string, string>();
      for (const id of IDS) {
        const a = c.assign(id);
        if (a.inExperiment) now.set(id, a.variant as string);
      }
      if (previous) {
        let lost = 0;
        let switched = 0;
        for (const [id, v] of previous) {
          if (!now.has(id)) lost++;
          else if (now.get(id) !== v) switched++;
        }
        expect({ p, lost, switched }).toEqual({ p, lost: 0, switched: 0 });
      }
      // Who is in is exactly the traffic bucket rule.
      const threshold = trafficBuckets(p);
      let mismatches = 0;
      for (const id of IDS.slice(0, 20_000))
        if (now.has(id) !== bucketOf(trafficSalt('ramp-traffic'), id) < threshold) mismatches++;
      expect(mismatches).toBe(0);
      previous = now;
    }
  });

  it('50/50 → 40/60: exactly the units in variant buckets [4000, 5000) move, control → ts, nothing else', () => {
    const before = compileExperiment(base);
    const allocation = rampVariants(before.allocation, [
      { key: 'control', weight: 40 },
      { key: 'ts', weight: 60 },
    ]);
    const after = compileExperiment({
      ...base,
      variants: [
        { key: 'control', weight: 40 },
        { key: 'ts', weight: 60 },
      ],
      allocation,
    });
    let moved = 0;
    let wrong = 0;
    for (const id of IDS) {
      const a = before.assign(id);
      const b = after.assign(id);
      const shouldMove = a.bucket >= 4000 && a.bucket < 5000;
      if (a.variant !== b.variant) {
        moved++;
        if (!shouldMove || a.variant !== 'control' || b.variant !== 'ts') wrong++;
      } else if (shouldMove) wrong++;
    }
    expect(wrong).toBe(0);
    // About 10% of units move, which is the minimum possible (total variation distance 0.1).
    const r = pearsonChiSquare([moved, IDS.length - moved], [1, 9]);
    console.log(`ramp 50/50 → 40/60 moved ${moved} of ${IDS.length}, p=${r.pValue.toFixed(4)}`);
    expect(r.pValue).toBeGreaterThan(0.001);
  });

  it('adding a variant only takes units from the others; a later ramp-down frees them back', () => {
    const v3 = [
      { key: 'a', weight: 34 },
      { key: 'b', weight: 33 },
      { key: 'c', weight: 33 },
    ];
    const first = rampVariants(undefined, v3);
    const v4 = [...v3.map((v) => ({ ...v, weight: 25 })), { key: 'd', weight: 25 }];
    const second = rampVariants(first, v4);
    const e1 = compileExperiment({ ...base, variants: v3, allocation: first });
    const e2 = compileExperiment({ ...base, variants: v4, allocation: second });
    let wrong = 0;
    let moved = 0;
    for (const id of IDS) {
      const x = e1.assign(id).variant;
      const y = e2.assign(id).variant;
      if (x !== y) {
        moved++;
        if (y !== 'd') wrong++;
      }
    }
    expect(wrong).toBe(0);
    console.log(`adding a 4th variant moved ${moved} of ${IDS.length} (expected ~25%)`);
    expect(Math.abs(moved / IDS.length - 0.25)).toBeLessThan(0.01);
    // Ramp d back to 0: its buckets return, the rest stay put.
    const third = rampVariants(second, [...v4.slice(0, 3), { key: 'd', weight: 0 }]);
    expect(rangesSize(third.d)).toBe(0);
    for (const k of ['a', 'b', 'c']) {
      const kept = second[k];
      for (const r of kept)
        for (let b = r.start; b < r.end; b += 97) expect(third[k].some((q) => b >= q.start && b < q.end)).toBe(true);
    }
  });
});

describe('layers inside assign', () => {
  it('an experiment in a layer only sees units of its layer range, hashed by the layer salt', () => {
    const layer = planLayer(undefined, {
      key: 'home',
      salt: 'home-salt',
      holdoutPercent: 5,
      experiments: [{ key: 'home-feed', percent: 40 }],
    });
    const c = compileExperiment({ ...base, layer: layerPlacement(layer, 'home-feed') });
    let mismatches = 0;
    for (const id of IDS.slice(0, 30_000)) {
      const lb = bucketOf('home-salt', id);
      const want = lb < 500 ? 'holdout' : lb < 4500 ? null : 'layer';
      if (c.assign(id).reason !== want) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
