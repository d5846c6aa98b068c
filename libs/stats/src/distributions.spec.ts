import { chiSquareSf, normalCdf, normalQuantile, normalSf, studentTQuantile, studentTSf } from './distributions';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

interface G {
  cases: {
    normalCdf: { x: number; expected: number }[];
    normalSf: { x: number; expected: number }[];
    normalQuantile: { p: number; expected: number }[];
    studentTSf: { t: number; df: number; expected: number }[];
    studentTQuantile: { p: number; df: number; expected: number }[];
    chiSquareSf: { x: number; k: number; expected: number }[];
  };
}

const g = loadGolden<G>('distributions');

// absolute tolerance 1e-300: SciPy underflows to 0 below ~1e-308 where we return a subnormal
describe('distributions match SciPy (golden, 1e-6 relative, tails included)', () => {
  it.each(g.cases.normalCdf)('Φ($x)', ({ x, expected }) => expectClose(normalCdf(x), expected, 1e-6, 1e-300));
  it.each(g.cases.normalSf)('1 − Φ($x)', ({ x, expected }) => expectClose(normalSf(x), expected, 1e-6, 1e-300));
  it.each(g.cases.normalQuantile)('Φ⁻¹($p)', ({ p, expected }) => expectClose(normalQuantile(p), expected));
  it.each(g.cases.studentTSf)('t sf($t, df=$df)', ({ t, df, expected }) =>
    expectClose(studentTSf(t, df), expected, 1e-6, 1e-300),
  );
  it.each(g.cases.studentTQuantile)('t quantile($p, df=$df)', ({ p, df, expected }) =>
    expectClose(studentTQuantile(p, df), expected),
  );
  it.each(g.cases.chiSquareSf)('χ² sf($x, k=$k)', ({ x, k, expected }) =>
    expectClose(chiSquareSf(x, k), expected, 1e-6, 1e-300),
  );
});
