/**
 * Profiles `rank` end to end: the built API (`npm run build`) runs as a child process under `node --cpu-prof` on a
 * fresh embedded database, the benchmark's workload (bench/rank.bench.ts) is set up through HTTP, and the closed-loop
 * load generator (bench/load.ts, its own process) drives each policy in turn. Prints req/s and p99 per policy, their
 * ratio to the `ranker` policy (one process, one machine, interleaved), and the profile's heaviest functions by
 * self time. Usage: node dist/bench/profile-rank.js [seconds per policy] [connections] [policies, comma-separated].
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForListening } from '../apps/simulator/src/server';
import { runLoad } from './load';
import { rankWorkload } from './rank.bench';

const ADMIN = 'sw_bench_admin_key_0123456789abcdefghijklmnopqrstuv';
const POLICIES: Record<string, Record<string, unknown>> = {
  'bench-ranker': { type: 'ranker' },
  'bench-draws-0': { type: 'thompson', model: 'hybrid', propensityDraws: 0 },
  'bench-deferred': { type: 'thompson', model: 'hybrid', propensityDraws: 1000, propensities: 'deferred' },
  bench: { type: 'thompson', model: 'hybrid', propensityDraws: 1000 },
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 6);
  const connections = Number(process.argv[3] ?? 16);
  const order = (process.argv[4] ?? 'bench-ranker,bench-draws-0,bench-deferred,bench').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'slotwise-profile-'));
  const profDir = join(dir, 'prof');
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profDir}`, join(__dirname, '..', 'apps', 'api', 'src', 'main.js')],
    {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        HOST: '127.0.0.1',
        SLOTWISE_ADMIN_KEY: ADMIN,
        SLOTWISE_DEMO: 'off',
        LOG_LEVEL: 'error',
        SLOTWISE_DATA_DIR: join(dir, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const base = await waitForListening(child, () => stderr, 600_000);
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const { bodies, setup } = rankWorkload();
    await setup(
      async (method, path, body) => {
        const res = await fetch(base + path, { method, headers, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return res.json();
      },
      Object.entries(POLICIES)
        .filter(([k]) => k !== 'bench')
        .map(([key, policy]) => ({ key, policy })),
    );
    const results: Record<string, { rps: number; p99: number; p50: number }> = {};
    for (const key of order) {
      const r = await runLoad({
        method: 'POST',
        url: `${base}/v1/rank`,
        headers,
        bodies: bodies('catalog', key),
        connections,
        warmupMs: 1500,
        durationMs: seconds * 1000,
      });
      if (r.errors || r.non2xx) throw new Error(`${key}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
      results[key] = { rps: r.requestsPerSecond, p50: r.p50Ms, p99: r.p99Ms };
    }
    const ranker = results['bench-ranker']?.rps;
    for (const [key, r] of Object.entries(results)) {
      console.log(
        `${key.padEnd(16)} ${r.rps.toFixed(1).padStart(7)} req/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms${ranker ? `  ÷ ranker ${(r.rps / ranker).toFixed(2)}` : ''}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file) summarise(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: ProfileNode[] });
  rmSync(dir, { recursive: true, force: true });
}

/** Self time per function (hit counts), heaviest first. */
function summarise(profile: { nodes: ProfileNode[] }): void {
  const self = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const f = n.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`;
    self.set(name, (self.get(name) ?? 0) + hits);
  }
  console.log(`\nself time, share of ${total} samples:`);
  for (const [name, hits] of [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.PROFILE_TOP ?? 40))) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
