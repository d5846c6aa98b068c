import { adjustPValues, benjaminiHochberg, holm } from './multiple-testing';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

interface Case {
  name: string;
  pValues: (number | null)[];
  holm: (number | null)[];
  bh: (number | null)[];
}

const g = loadGolden<{ cases: Case[] }>('multiple_testing');

describe('Holm and Benjamini–Hochberg (golden: statsmodels multipletests holm / fdr_bh)', () => {
  it.each(g.cases)('$name', (c) => {
    const h = holm(c.pValues);
    const b = benjaminiHochberg(c.pValues);
    expect(h).toHaveLength(c.pValues.length);
    c.holm.forEach((e, i) => expectClose(h[i], e, 1e-6, 1e-12, `holm[${i}]`));
    c.bh.forEach((e, i) => expectClose(b[i], e, 1e-6, 1e-12, `bh[${i}]`));
  });

  it('adjustPValues dispatches and treats invalid entries as null', () => {
    expect(adjustPValues([0.01, 0.02], 'holm')).toEqual(holm([0.01, 0.02]));
    expect(adjustPValues([0.01, 0.02], 'bh')).toEqual(benjaminiHochberg([0.01, 0.02]));
    expect(adjustPValues([0.01, NaN, 2], 'none')).toEqual([0.01, null, null]);
  });
});
