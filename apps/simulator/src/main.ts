/** `npm run simulate -- …`: runs a world against the HTTP API and prints the comparison (see USAGE). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SlotwiseClient } from './client';
import { parseArgs, USAGE, type CliOptions } from './cli';
import { markdownTable, svgChart, textTable } from './report';
import { applicableVariants, runSimulation } from './runner';
import { startChildApi, type ChildApi } from './server';
import type { World } from './world';
import { EcommerceWorld } from './worlds/ecommerce';
import { ObdWorld, resolveObdDataDir } from './worlds/obd';

export async function createWorld(o: CliOptions): Promise<World> {
  if (o.world === 'obd')
    return ObdWorld.create({
      seed: o.seed,
      dataDir: resolveObdDataDir(),
      coldStartThreshold: 100,
      meanLagSeconds: 1800,
    });
  return EcommerceWorld.create({
    seed: o.seed,
    contextDim: o.contextDim,
    itemDim: o.itemDim,
    catalogSize: o.catalogSize,
    shortlist: o.shortlist,
    slots: o.slots,
    decisionsPerHour: o.decisionsPerHour,
  });
}

async function main(argv: string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = o.quiet ? () => undefined : (line: string) => process.stderr.write(`[simulate] ${line}\n`);
  const world = await createWorld(o);
  const { use, skipped } = applicableVariants(world.spec, o.variants);
  if (skipped.length)
    log(
      `skipped ${skipped.join(', ')}: the ${world.spec.world} world has no ranker with an embedding (${world.spec.contextFeatures.length}×${world.spec.itemFeatures.length} features)`,
    );
  log(world.spec.description);
  let child: ChildApi | null = null;
  try {
    if (!o.url) child = await startChildApi({ databaseUrl: o.databaseUrl ?? undefined, log });
    const client = new SlotwiseClient(o.url ?? child!.url, o.key ?? child!.key);
    const result = await runSimulation(client, world, {
      decisions: o.decisions,
      variants: use,
      propensityDraws: o.propensityDraws,
      concurrency: o.concurrency,
      rewardBatch: o.rewardBatch,
      rate: o.rate,
      windows: o.windows,
      log,
    });
    const out = resolve(o.out ?? join('.slotwise', 'simulations', `${o.world}-seed${o.seed}`));
    mkdirSync(out, { recursive: true });
    const settings = {
      seed: o.seed,
      propensityDraws: o.propensityDraws,
      concurrency: o.concurrency,
      decisionsPerHour: o.decisionsPerHour,
    };
    writeFileSync(join(out, 'results.json'), JSON.stringify({ settings, ...result }, null, 2) + '\n');
    writeFileSync(join(out, 'chart.svg'), svgChart(result) + '\n');
    process.stdout.write(
      `\n${world.spec.description}\n${result.decisions} decisions in ${result.seconds} s (experiment ${result.experiment}; seed ${o.seed}; ${o.propensityDraws} propensity draws)\n\n${textTable(result)}\n\n`,
    );
    if (o.markdown) process.stdout.write(`${markdownTable(result)}\n\n`);
    process.stdout.write(`results: ${join(out, 'results.json')}\nchart:   ${join(out, 'chart.svg')}\n`);
    return 0;
  } catch (err) {
    if (child) process.stderr.write(`[simulate] the API's last error output:\n${child.stderrTail()}\n`);
    throw err;
  } finally {
    await world.close();
    await child?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`simulate failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
