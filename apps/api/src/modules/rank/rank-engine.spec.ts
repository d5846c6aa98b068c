import { Registry } from 'prom-client';
import type { AppConfig } from '../../config/app-config';
import type { ClusterBus } from '../../database/cluster-bus';
import type { ExperimentEvents } from '../experiments/experiment-events';
import type { PolicySpec } from '../experiments/experiment.schema';
import type { ExperimentsRepository } from '../experiments/experiments.repository';
import type { ModelsService } from '../models/models.service';
import type { HealthService } from '../observability/health.service';
import type { MetricsService } from '../observability/metrics.service';
import { buildVariant, type ExperimentRuntime } from './experiment-runtime';
import type { ModelFlusher } from './model-flusher';
import type { ModelReplay } from './model-replay';
import type { ModelStateRepository } from './model-state.repository';
import { RankEngine } from './rank-engine';
import type { ReplicaLease } from './replica-lease';

describe('RankEngine.readyToDecide: the idle-replica version check', () => {
  // Infrastructure the check does not use (events, bus, metrics, health) is inert; the variant and its model are real.
  const storedVersionCalls: string[] = [];
  const state = {
    storedVersion: async (_e: string, v: string) => (storedVersionCalls.push(v), 0),
  } as unknown as ModelStateRepository;
  const engine = new RankEngine(
    {} as ExperimentsRepository,
    state,
    {} as ModelsService,
    { modelFlushMs: 50 } as AppConfig,
    { onChanged: () => () => undefined } as unknown as ExperimentEvents,
    { held: true } as ReplicaLease,
    { registry: new Registry() } as MetricsService,
    { register: () => undefined } as unknown as HealthService,
    { on: () => () => undefined, onResync: () => () => undefined } as unknown as ClusterBus,
    {} as ModelFlusher,
    {} as ModelReplay,
  );
  const runtime = { id: 'e1', key: 'exp' } as ExperimentRuntime;
  const spec = { type: 'thompson', model: 'linear', propensityDraws: 10 } as PolicySpec;

  it('does not wait behind a flush pass in flight (the pass takes the stored version), and still checks when idle', async () => {
    const variant = buildVariant('ts', spec, { type: 'linear', contextDim: 1, itemDim: 1 }, null);
    variant.syncedAt = Date.now() - 10_000;
    let endPass!: () => void;
    const pass = variant.exclusive(() => new Promise<void>((r) => (endPass = r)));
    const waited = await Promise.race([
      engine.readyToDecide(runtime, variant).then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 500)),
    ]);
    expect(waited).toBe(false);
    expect(storedVersionCalls).toEqual([]);
    endPass();
    await pass;
    await engine.readyToDecide(runtime, variant);
    expect(storedVersionCalls).toEqual(['ts']);
  });
});
