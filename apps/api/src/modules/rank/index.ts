import { CatalogCache } from '../items/catalog-cache';
import { ModelsController } from '../models/models.controller';
import { ModelsRepository } from '../models/models.repository';
import { ModelsService } from '../models/models.service';
import { ReportsController, StatsController } from '../reports/reports.controller';
import { ReportsRepository } from '../reports/reports.repository';
import { ReportsScheduler } from '../reports/reports.scheduler';
import { ReportsService } from '../reports/reports.service';
import { DecisionHooks } from './decision-hooks';
import { DecisionLogController } from './decision-log.controller';
import { DecisionLogRepository } from './decision-log.repository';
import { DecisionLogService } from './decision-log.service';
import { DecisionsRepository } from './decisions.repository';
import { DeferredPropensities } from './deferred-propensities';
import { ExplorationRepository } from './exploration.repository';
import { ExplorationService } from './exploration.service';
import { ModelFlusher } from './model-flusher';
import { ModelReplay } from './model-replay';
import { ModelStateRepository } from './model-state.repository';
import { RankController } from './rank.controller';
import { RankEngine } from './rank-engine';
import { RankService } from './rank.service';
import { ReplicaLease, ReplicaLeaseRepository } from './replica-lease';
import { RewardsService } from './rewards.service';

/** Ranked slots: ranker models, rank, rewards, posterior state, exploration figures. */
export const RANK_CONTROLLERS = [
  ModelsController,
  RankController,
  ReportsController,
  StatsController,
  DecisionLogController,
];
export const RANK_PROVIDERS = [
  CatalogCache,
  ModelsRepository,
  ModelsService,
  DecisionsRepository,
  DecisionHooks,
  DeferredPropensities,
  DecisionLogRepository,
  DecisionLogService,
  ModelStateRepository,
  ModelFlusher,
  ModelReplay,
  ReplicaLeaseRepository,
  ReplicaLease,
  ExplorationRepository,
  ExplorationService,
  RankEngine,
  RankService,
  RewardsService,
  ReportsService,
  ReportsRepository,
  ReportsScheduler,
];
