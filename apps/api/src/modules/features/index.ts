import { FeatureDefinitionsController, FeatureValuesController } from './features.controller';
import { FeatureDefinitionsService } from './feature-definitions.service';
import { FeatureStoreService } from './feature-store.service';
import { FeaturesRepository } from './features.repository';

export { FeatureStoreService } from './feature-store.service';
export type { RankFeatureFill } from './feature-store.service';

/** The online feature store: definitions, incremental state from events / rewards / impressions, values for rank. */
export const FEATURE_CONTROLLERS = [FeatureDefinitionsController, FeatureValuesController];
export const FEATURE_PROVIDERS = [FeaturesRepository, FeatureDefinitionsService, FeatureStoreService];
