import { ExperimentEntity } from '../../database/entities/experiment.entity';
import type { ExperimentDefinition } from './experiment.schema';

/** Settings kept in the jsonb column: everything in the definition that has no column of its own. */
export type ExperimentSettings = Pick<
  ExperimentDefinition,
  | 'features'
  | 'ranker'
  | 'metrics'
  | 'coldStartThreshold'
  | 'rewardWindowSeconds'
  | 'exploration'
  | 'targeting'
  | 'tags'
  | 'autoStop'
>;

export function settingsOf(d: ExperimentDefinition): ExperimentSettings {
  return {
    features: d.features,
    ranker: d.ranker,
    metrics: d.metrics,
    coldStartThreshold: d.coldStartThreshold,
    rewardWindowSeconds: d.rewardWindowSeconds,
    exploration: d.exploration,
    targeting: d.targeting,
    tags: d.tags,
    ...(d.autoStop ? { autoStop: d.autoStop } : {}),
  };
}

/** The definition as the client wrote it (with defaults filled in). */
export function definitionOf(e: ExperimentEntity): ExperimentDefinition {
  const s = e.settings as unknown as ExperimentSettings;
  const d: ExperimentDefinition = {
    key: e.key,
    name: e.name,
    hypothesis: e.hypothesis,
    kind: e.kind,
    assignment: e.assignment,
    trafficPercent: e.trafficPercent,
    layer: e.layer,
    features: s.features,
    ranker: s.ranker,
    variants: [...e.variants]
      .sort((a, b) => a.position - b.position)
      .map((v) => ({
        key: v.key,
        weight: v.weight,
        ...(v.policy ? { policy: v.policy as never } : {}),
        shadow: v.shadow ?? false,
        ...(v.config ? { config: v.config } : {}),
      })),
    metrics: s.metrics,
    coldStartThreshold: s.coldStartThreshold,
    rewardWindowSeconds: s.rewardWindowSeconds,
    tags: s.tags ?? [],
  };
  if (e.slots !== null) d.slots = e.slots;
  if (s.exploration) d.exploration = s.exploration;
  if (s.targeting !== undefined) d.targeting = s.targeting;
  if (s.autoStop) d.autoStop = s.autoStop;
  return d;
}

export interface ExperimentView extends ExperimentDefinition {
  id: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
  /** Current assignment phase (a weight change on a live experiment starts the next one); 1 before the first start. */
  phase?: number;
  /** The variant served to everyone after `POST /v1/experiments/{key}/ship`. */
  shippedVariant?: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function viewOf(e: ExperimentEntity): ExperimentView {
  return {
    id: e.id,
    ...definitionOf(e),
    status: e.status,
    version: e.version,
    createdAt: iso(e.createdAt)!,
    updatedAt: iso(e.updatedAt)!,
    startedAt: iso(e.startedAt),
    stoppedAt: iso(e.stoppedAt),
  };
}
