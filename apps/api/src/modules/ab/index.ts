import { AbServingController, LayersController, MetricDefinitionsController, UnitsController } from './ab.controller';
import { AbStateRepository } from './ab-state.repository';
import { AbStateService } from './ab-state.service';
import { AssignmentService } from './assignment.service';
import { EventRetentionWorker } from './event-retention.worker';
import { EventsFeed } from './events-feed';
import { EventsRepository } from './events.repository';
import { ExposuresRepository } from './exposures.repository';
import { IngestService } from './ingest.service';
import { MetricDefinitionsRepository } from './metric-definitions.repository';
import { MetricDefinitionsService } from './metric-definitions.service';
import { MetricValuesRepository } from './metric-values.repository';
import { UnitErasureService } from './unit-erasure.service';
import { UnitRollupsRepository } from './unit-rollups.repository';
import { UnitRollupsWorker } from './unit-rollups.worker';

export { AssignmentService } from './assignment.service';
export type { ServingAssignment, ServingExperiment } from './assignment.service';
export { MetricValuesRepository } from './metric-values.repository';
export type { MetricAggregate, MetricSpec, MetricValuesQuery } from './metric-values.repository';
export { ExposuresRepository } from './exposures.repository';
export { UnitErasureService } from './unit-erasure.service';
export { UnitRollupsRepository } from './unit-rollups.repository';
export { EventRetentionWorker } from './event-retention.worker';
export { EventsFeed } from './events-feed';
export type { AcceptedEventsListener } from './events-feed';
export type { EventRow } from './events.repository';
export type { UnitEraser } from './unit-erasure.service';

/** The A/B engine: assignment, layers, exposures, events, metric definitions and values, unit erasure. */
export const AB_CONTROLLERS = [AbServingController, MetricDefinitionsController, LayersController, UnitsController];
export const AB_PROVIDERS = [
  AbStateRepository,
  AbStateService,
  AssignmentService,
  ExposuresRepository,
  EventsRepository,
  EventsFeed,
  EventRetentionWorker,
  IngestService,
  MetricDefinitionsRepository,
  MetricDefinitionsService,
  MetricValuesRepository,
  UnitErasureService,
  UnitRollupsRepository,
  UnitRollupsWorker,
];
