import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabt from 'wabt';
import { addOuterLower, cholesky, identity } from '../linalg';
import { Rng } from '../rng';
import { kernelBackend, scoreDraws, setKernelBackend, solvedGram } from './index';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** Runs `f` on one backend, then restores WebAssembly. */
function on<T>(backend: 'wasm' | 'typescript', f: () => T): T {
  setKernelBackend(backend);
  try {
    return f();
  } finally {
    setKernelBackend('wasm');
  }
}

function factor(r: Rng, d: number): Float64Array {
  const A = identity(d, 0.25);
  for (let t = 0; t < d + 3; t++)
    addOuterLower(
      A,
      Array.from({ length: d }, () => r.normal()),
      d,
    );
  return cholesky(A, d);
}

describe('kernels', () => {
  it('run in WebAssembly SIMD on Node 20', () => {
    expect(kernelBackend()).toBe('wasm');
    expect(on('typescript', kernelBackend)).toBe('typescript');
  });

  it('solvedGram: WebAssembly and TypeScript give bit-identical matrices (odd and even sizes; 4-, 2- and 1-row passes)', () => {
    const r = new Rng(31);
    for (const [rows, d] of [
      [1, 1],
      [2, 3],
      [5, 17],
      [7, 16],
      [50, 289],
    ]) {
      const L = factor(r, d);
      const G = Float64Array.from({ length: rows * d }, () => r.normal());
      const fast = on('wasm', () => solvedGram(L, G, rows, d));
      const reference = on('typescript', () => solvedGram(L, G, rows, d));
      expect(Array.from(fast)).toEqual(Array.from(reference));
      expect(fast[0]).toBeGreaterThan(0);
    }
  });

  it('scoreDraws: WebAssembly and TypeScript give bit-identical draws (lower and full factors, odd and even counts)', () => {
    const r = new Rng(32);
    for (const [n, rank, count, lower] of [
      [1, 1, 1, true],
      [7, 7, 3, true],
      [50, 50, 64, true],
      [9, 4, 5, false],
    ] as const) {
      const F = Float64Array.from({ length: n * rank }, () => r.normal());
      const zetas = Float64Array.from({ length: count * rank }, () => r.normal());
      const mean = Float64Array.from({ length: n }, () => r.normal());
      const sigmas = Float64Array.from({ length: count }, () => 0.5 + r.uniform());
      const fast = new Float64Array(count * n);
      const reference = new Float64Array(count * n);
      on('wasm', () => scoreDraws(F, zetas, mean, sigmas, fast, n, rank, count, lower));
      on('typescript', () => scoreDraws(F, zetas, mean, sigmas, reference, n, rank, count, lower));
      expect(Array.from(fast)).toEqual(Array.from(reference));
      // one draw by hand: mean + σ · (row of F up to the diagonal) · ζ
      const end = lower ? 1 : rank;
      let s = 0;
      for (let j = 0; j < end; j++) s += F[j] * zetas[j];
      expect(fast[0]).toBeCloseTo(mean[0] + sigmas[0] * s, 12);
    }
  });

  it('the committed module is kernels.wat assembled (node tools/bandit/build-kernels.js regenerates it)', async () => {
    const tools = await wabt();
    const module = tools.parseWat('kernels.wat', readFileSync(join(__dirname, 'kernels.wat'), 'utf8'), { simd: true });
    module.validate();
    const bytes = Buffer.from(module.toBinary({ write_debug_names: false }).buffer);
    module.destroy();
    expect(bytes.toString('base64')).toBe(KERNELS_WASM_BASE64);
  });
});
