import { Foundation1764345600000 } from './1764345600000-foundation';
import { AbEngine1764432000000 } from './1764432000000-ab-engine';
import { Console1764460800000 } from './1764460800000-console';
import { RankedSlots1764518400000 } from './1764518400000-ranked-slots';
import { ReportCache1764604800000 } from './1764604800000-report-cache';
import { PackedModelStats1764691200000 } from './1764691200000-packed-model-stats';
import { LastAdminKey1764781200000 } from './1764781200000-last-admin-key';
import { ReplicaLeases1764867600000 } from './1764867600000-replica-leases';
import { FeatureStore1764954000000 } from './1764954000000-feature-store';
import { Webhooks1765040400000 } from './1765040400000-webhooks';
import { OffPolicyEvaluation1765126800000 } from './1765126800000-off-policy-evaluation';
import { ShadowPolicies1765213200000 } from './1765213200000-shadow-policies';
import { Triggers1765299600000 } from './1765299600000-triggers';
import { UnitHistory1765386000000 } from './1765386000000-unit-history';
import { CitusDistribution1765558800000 } from './1765558800000-citus-distribution';
import { ReportRollups1765645200000 } from './1765645200000-report-rollups';
import { EventTimeIndex1765645201000 } from './1765645201000-event-time-index';
import { FeatureQueue1765900000000 } from './1765900000000-feature-queue';
import { CitusRollups1765910000000 } from './1765910000000-citus-rollups';
import { ReportExposureRollups1765920000000 } from './1765920000000-report-exposure-rollups';
import { UnitFeatureState1766000000000 } from './1766000000000-unit-feature-state';
import { CitusReportRollups1766100000000 } from './1766100000000-citus-report-rollups';
import { ReportVariantStats1766200000000 } from './1766200000000-report-variant-stats';

/** Every migration, oldest first. New migrations are appended here. */
export const MIGRATIONS = [
  Foundation1764345600000,
  AbEngine1764432000000,
  Console1764460800000,
  RankedSlots1764518400000,
  ReportCache1764604800000,
  PackedModelStats1764691200000,
  LastAdminKey1764781200000,
  ReplicaLeases1764867600000,
  FeatureStore1764954000000,
  Webhooks1765040400000,
  OffPolicyEvaluation1765126800000,
  ShadowPolicies1765213200000,
  Triggers1765299600000,
  UnitHistory1765386000000,
  CitusDistribution1765558800000,
  ReportRollups1765645200000,
  EventTimeIndex1765645201000,
  FeatureQueue1765900000000,
  CitusRollups1765910000000,
  ReportExposureRollups1765920000000,
  UnitFeatureState1766000000000,
  CitusReportRollups1766100000000,
  ReportVariantStats1766200000000,
];
