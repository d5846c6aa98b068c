import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { decisionTimer } from '@slotwise/bandit';

const PYTHON = '/usr/bin/python3';

export interface NumpyReferenceResult {
  /** set when the reference could not run (no python3 / numpy): the reason, printed by the caller */
  skipped?: string;
  rounds?: number;
  /** per round: median µs of Slotwise's in-process decision and of the NumPy reference, and their ratio */
  perRound?: Array<{ slotwiseUs: number; numpyUs: number; ratio: number }>;
  slotwiseUs?: number;
  numpyUs?: number;
  /** median of the per-round ratios Slotwise / NumPy (target ≤ 0.3) */
  ratio?: number;
  loadAverage?: number[];
  numpy?: Record<string, unknown>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Slotwise's in-process hybrid decision (1,000 propensity draws) against the NumPy reference of the same maths
 * (tools/bandit/numpy_decision.py, one BLAS thread: Slotwise's decision is single-threaded too), interleaved in
 * `rounds` rounds of `reps` decisions each, so both see the same machine load; the ratio is the median of the rounds'.
 */
export async function benchNumpyReference(
  opts: { rounds?: number; reps?: number } = {},
): Promise<NumpyReferenceResult> {
  const rounds = opts.rounds ?? 7;
  const reps = opts.reps ?? 30;
  // bench/ from source, dist/bench/ when built
  const script = [join(__dirname, '..', 'tools'), join(__dirname, '..', '..', 'tools')]
    .map((d) => join(d, 'bandit', 'numpy_decision.py'))
    .find((f) => existsSync(f));
  if (!script) return { skipped: 'tools/bandit/numpy_decision.py not found' };
  if (!existsSync(PYTHON)) return { skipped: `${PYTHON} not found` };
  const child = spawn(PYTHON, [script, '--serve'], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown> | null> => {
    const r = await lines.next();
    return r.done ? null : (JSON.parse(r.value) as Record<string, unknown>);
  };
  try {
    const ready = await next();
    if (!ready)
      return {
        skipped: `the NumPy reference did not start (numpy missing?): ${stderr.trim().split('\n').pop() ?? ''}`,
      };
    const timer = decisionTimer({ propensityDraws: 1000 });
    const perRound: Array<{ slotwiseUs: number; numpyUs: number; ratio: number }> = [];
    let numpy: Record<string, unknown> = {};
    for (let r = 0; r < rounds; r++) {
      child.stdin.write(`${reps}\n`);
      const answer = await next();
      if (!answer) return { skipped: `the NumPy reference stopped: ${stderr.trim()}` };
      numpy = answer;
      const numpyUs = answer.usPerDecision as number;
      const slotwiseUs = timer.run(reps);
      perRound.push({ slotwiseUs, numpyUs, ratio: slotwiseUs / numpyUs });
    }
    return {
      rounds,
      perRound,
      slotwiseUs: median(perRound.map((p) => p.slotwiseUs)),
      numpyUs: median(perRound.map((p) => p.numpyUs)),
      ratio: median(perRound.map((p) => p.ratio)),
      loadAverage: loadavg(),
      numpy,
    };
  } finally {
    child.stdin.end();
    child.kill();
  }
}
