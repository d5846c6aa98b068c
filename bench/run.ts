import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { runBanditBench } from '@slotwise/bandit';
import { benchRanker } from '@slotwise/ranker-fixtures';
import { benchEvents } from './events.bench';
import { benchFeatures } from './features.bench';
import { benchNumpyReference } from './numpy-reference.bench';
import { benchRank } from './rank.bench';
import { benchReport } from './report.bench';
import { benchScaleOut } from './scale-out.bench';
import { benchWebhooks } from './webhooks.bench';
import { benchWorkers } from './workers.bench';

/**
 * `npm run bench`: every figure is a ratio against a baseline measured in the same run on the same machine, or a
 * per-operation time next to the machine's calibration. Results are printed and written to bench/results/.
 * Options (environment): BENCH_DURATION_MS (default 10000), BENCH_CONNECTIONS (default 8), DATABASE_URL,
 * BENCH_ONLY (comma-separated sections: bandit, rank, workers, events, features, report, webhooks — runs only those and
 * updates only their figures in latest.json, stamping each with `measuredAt`; default: all).
 * `npm run bench -- scale-out` runs only the single server (DATABASE_URL) vs Citus (BENCH_CITUS_URL, a coordinator)
 * comparison (bench/scale-out.bench.ts) and writes bench/results/scale-out.json.
 */
async function main(): Promise<void> {
  // Bench options come from the command's environment; this script is an entry point like main.ts.
  const env = process.env;
  if (process.argv[2] === 'scale-out') {
    if (!env.DATABASE_URL || !env.BENCH_CITUS_URL)
      throw new Error(
        'scale-out needs DATABASE_URL (a plain PostgreSQL server) and BENCH_CITUS_URL (a Citus coordinator)',
      );
    console.log('== events ingestion and report: one PostgreSQL server vs Citus');
    const scaleOut: Record<string, unknown> = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      ...(await benchScaleOut({ single: env.DATABASE_URL, citus: env.BENCH_CITUS_URL })),
    };
    const dir = join(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'scale-out.json'), JSON.stringify(scaleOut, null, 2) + '\n');
    console.log(JSON.stringify(scaleOut.citusToSingle));
    return;
  }
  const durationMs = Number(env.BENCH_DURATION_MS ?? 10_000);
  const connections = Number(env.BENCH_CONNECTIONS ?? 8);
  const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((x) => x.trim())) : null;
  const runs = (section: string) => !only || only.has(section);
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  const file = join(dir, 'latest.json');
  const previous: Record<string, unknown> =
    only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {
    ...previous,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    database: env.DATABASE_URL ? 'server' : 'embedded',
  };

  if (only)
    out.partial = {
      sections: [...only],
      measuredAt: new Date().toISOString(),
      note: 'only these sections were measured in this run; the others are from the run dated above',
    };
  if (only) out.date = previous.date ?? out.date;

  if (runs('bandit')) {
    console.log('== in-process maths (libs/bandit, libs/ranker)');
    const bandit = runBanditBench();
    out.bandit = bandit;
    console.log(`calibration: ${bandit.calibration.nsPerMultiplyAdd.toFixed(2)} ns per multiply-add`);
    console.log(
      `posterior update at d=64: ${bandit.linearUpdate.usPerUpdate.toFixed(2)} µs (target ≤ 10 µs); reward correction ${bandit.linearUpdate.usPerCorrection.toFixed(2)} µs`,
    );
    const ho = bandit.hybridObserve;
    console.log(
      `hybrid update at d_z=${ho.dz}, ${ho.slots} shown slots: observe per slot ${ho.usPerSlateObserve.toFixed(0)} µs, ` +
        `observeShown (${ho.backend}) ${ho.usPerSlateShown.toFixed(0)} µs per slate → ratio ${ho.ratio.toFixed(3)} ` +
        `(TypeScript kernels ${ho.ratioTypescript.toFixed(3)}; same process, interleaved)`,
    );
    console.log(`in-process decision: ${JSON.stringify(bandit.decision)}`);
    const numpyReference = await benchNumpyReference();
    out.numpyReference = numpyReference;
    if (numpyReference.skipped) console.log(`NumPy reference skipped: ${numpyReference.skipped}`);
    else {
      console.log(
        `in-process hybrid decision (1,000 draws) vs the NumPy reference, interleaved: ${numpyReference.slotwiseUs?.toFixed(0)} / ${numpyReference.numpyUs?.toFixed(0)} µs ` +
          `→ ratio ${numpyReference.ratio?.toFixed(3)} (target ≤ 0.3; load average ${numpyReference.loadAverage?.map((l) => l.toFixed(2)).join(' ')})`,
      );
    }
    const ranker = await benchRanker();
    out.ranker = ranker;
    console.log(`ONNX ranker, 500 candidates × 16 features: ${JSON.stringify(ranker)}`);
  }

  if (runs('rank')) {
    console.log(`== rank through HTTP vs a bare Fastify server (${connections} connections, ${durationMs} ms each)`);
    const { shapes: rank, breakdown } = await benchRank({ durationMs, connections }); // DATABASE_URL, when set, is read by the test-database helper
    out.rank = rank;
    out.rankBreakdown = breakdown;
    for (const r of rank) {
      console.log(
        `${r.shape.padEnd(7)} ${(r.payloadBytes / 1024).toFixed(0)} KB: slotwise ${r.slotwise.requestsPerSecond.toFixed(1)} req/s ` +
          `(p50 ${r.slotwise.p50Ms.toFixed(1)} ms, p99 ${r.slotwise.p99Ms.toFixed(1)} ms, errors ${r.slotwise.errors + r.slotwise.non2xx}); ` +
          `bare ${r.bare.requestsPerSecond.toFixed(1)} req/s (p50 ${r.bare.p50Ms.toFixed(2)} ms, p99 ${r.bare.p99Ms.toFixed(2)} ms); ratio ${r.ratio.toFixed(3)} (target ≥ 0.5)`,
      );
    }

    console.log('where the catalog-shape gap goes (same request, lighter policies, against the same bare run):');
    for (const b of breakdown) {
      console.log(
        `  ${b.policy.padEnd(40)} ${b.slotwise.requestsPerSecond.toFixed(1)} req/s (p50 ${b.slotwise.p50Ms.toFixed(1)} ms, errors ${b.slotwise.errors + b.slotwise.non2xx}); ratio ${b.ratio.toFixed(3)}`,
      );
    }

    // issue 13's bars are against the ranker policy's req/s in the same run
    const rankerRps = breakdown.find((b) => b.policy.startsWith('ranker'))?.slotwise.requestsPerSecond;
    const deferred = breakdown.find((b) => b.policy.includes('deferred'));
    if (rankerRps) {
      const catalog = rank.find((r) => r.shape === 'catalog');
      out.rankVsRanker = {
        inline: catalog ? catalog.slotwise.requestsPerSecond / rankerRps : null,
        inlineP99Ms: catalog?.slotwise.p99Ms ?? null,
        deferred: deferred ? deferred.slotwise.requestsPerSecond / rankerRps : null,
      };
      console.log(
        `thompson hybrid 1,000 draws / ranker policy req/s: inline ${JSON.stringify(out.rankVsRanker)} (targets: inline ≥ 0.7 with p99 ≤ 100 ms, deferred ≥ 0.9)`,
      );
    }
  }

  if (runs('workers')) {
    console.log('== two API worker processes vs one on the PostgreSQL server (WORKERS)');
    const workers = await benchWorkers({ durationMs, connections });
    out.workers = workers;
    if (workers.skipped) console.log(`skipped: ${workers.skipped}`);
    else {
      console.log(
        `rank: ${workers.runs!.map((r) => `${r.workers} worker(s): ${r.slotwise.requestsPerSecond.toFixed(1)} req/s (p99 ${r.slotwise.p99Ms.toFixed(1)} ms)`).join('; ')}; ratio ${workers.ratio!.toFixed(2)}`,
      );
      console.log(
        `rewards: ${workers.runs!.map((r) => `${r.workers} worker(s): ${r.rewards.requestsPerSecond.toFixed(1)} req/s (p99 ${r.rewards.p99Ms.toFixed(1)} ms)`).join('; ')}; ratio ${workers.rewardsRatio!.toFixed(2)}`,
      );
    }
  }

  if (runs('events')) {
    console.log('== events ingestion through HTTP vs psql COPY of the same rows into the same server');
    const events = await benchEvents();
    out.events = events;
    console.log(JSON.stringify(events));
  }

  if (runs('features')) {
    console.log(
      '== feature store: events with 5 feature definitions vs none; rank with 10 stored context features vs 10 inline',
    );
    const features = await benchFeatures();
    out.features = features;
    console.log(JSON.stringify(features));
  }

  if (runs('report')) {
    console.log(
      '== experiment report vs the bare SQL aggregate (GROUP BY variant of per-unit sums) on the same database',
    );
    const report = await benchReport();
    out.report = report;
    console.log(JSON.stringify(report));
  }

  if (runs('webhooks')) {
    console.log('== webhook deliveries to a local receiver (outbox → signed POST), sustained');
    const webhooks = await benchWebhooks();
    out.webhooks = {
      ...webhooks,
      measuredAt: new Date().toISOString(),
      database: out.database,
      target: 'deliveriesPerMinute ≥ 1000',
    };
    console.log(`${JSON.stringify(webhooks)} (target ≥ 1,000 deliveries per minute)`);
  }

  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`written to ${file}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
