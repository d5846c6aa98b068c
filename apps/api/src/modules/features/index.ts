import { FeatureDefinitionsController, FeatureValuesController, TrainingExportController } from './features.controller';
import { FeatureDefinitionsService } from './feature-definitions.service';
import { FeatureStoreService } from './feature-store.service';
import { FeatureQueueWorker } from './feature-queue.worker';
import { FeaturesRepository, TrainingExportRepository } from './features.repository';
import { TrainingExportService } from './training-export.service';

export { FeatureStoreService } from './feature-store.service';
export type { RankFeatureFill, UnitFeatureReader, UnitFeaturesListener } from './feature-store.service';
export { FeatureDefinitionsService } from './feature-definitions.service';
export { FeatureQueueWorker } from './feature-queue.worker';

/** The online feature store: definitions, incremental state from events / rewards / impressions, values for rank. */
export const FEATURE_CONTROLLERS = [FeatureDefinitionsController, FeatureValuesController, TrainingExportController];
export const FEATURE_PROVIDERS = [
  FeaturesRepository,
  FeatureDefinitionsService,
  FeatureStoreService,
  FeatureQueueWorker,
  TrainingExportRepository,
  TrainingExportService,
];
