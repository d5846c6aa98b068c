import { join } from 'node:path';
import { SlotwiseClient } from '../apps/simulator/src/client';
import { runPolicyHttp } from '../apps/simulator/src/showdown/http';
import { resolveWorldsDir } from '../apps/simulator/src/showdown/main';
import { runPolicy, type ShowdownPolicy } from '../apps/simulator/src/showdown/runner';
import { loadWorldFile, ShowdownEnv } from '../apps/simulator/src/showdown/world';
import { ADMIN_KEY, startTestApp } from './support/test-app';

/**
 * The showdown runs libs/bandit in process for speed; this checks that the in-process path is the API's path: the
 * same world prefix through HTTP (POST /v1/rank, POST /v1/rewards) with SLOTWISE_DECISION_SEED set to the
 * in-process decision seed gives the same slates, decision by decision. MODEL_FLUSH_MS is at its maximum so no
 * flush (which rebuilds the posterior from stored sums, changing rounding) happens during the short run.
 */
describe('showdown: in-process decisions = HTTP API decisions', () => {
  const cases: [string, ShowdownPolicy, number][] = [
    ['logistic', 'thompson-hybrid', 200],
    ['slate-position', 'thompson-linear', 100],
  ];
  it.each(cases)(
    '%s world, %s, first %i decisions of seed 1',
    async (worldName, policy, horizon) => {
      const world = loadWorldFile(join(resolveWorldsDir(), `${worldName}.json.gz`));
      const env = new ShowdownEnv(world, world.seeds[0], horizon);
      const decisionSeed = 20261129;
      const inProcess = runPolicy(env, policy, { decisionSeed, record: true });
      // the comparison has power: another decision seed gives other slates
      expect(runPolicy(env, policy, { decisionSeed: decisionSeed + 1, record: true }).chosen).not.toEqual(
        inProcess.chosen,
      );
      const app = await startTestApp({
        env: { SLOTWISE_DECISION_SEED: String(decisionSeed), MODEL_FLUSH_MS: '60000' },
      });
      try {
        const viaHttp = await runPolicyHttp(
          new SlotwiseClient(app.baseUrl, ADMIN_KEY),
          env,
          policy,
          `showdown-${worldName}`,
        );
        expect(viaHttp).toHaveLength(horizon);
        expect(viaHttp).toEqual(inProcess.chosen);
        // not a constant slate: the policy explored and learned along the way
        expect(new Set(viaHttp.map((s) => s.join(','))).size).toBeGreaterThan(2);
      } finally {
        await app.close(true);
      }
    },
    240_000,
  );
});
