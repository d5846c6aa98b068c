import { Foundation1764345600000 } from './1764345600000-foundation';
import { AbEngine1764432000000 } from './1764432000000-ab-engine';
import { Console1764460800000 } from './1764460800000-console';
import { RankedSlots1764518400000 } from './1764518400000-ranked-slots';
import { ReportCache1764604800000 } from './1764604800000-report-cache';
import { PackedModelStats1764691200000 } from './1764691200000-packed-model-stats';
import { OffPolicyEvaluation1764786000000 } from './1764786000000-off-policy-evaluation';

/** Every migration, oldest first. New migrations are appended here. */
export const MIGRATIONS = [Foundation1764345600000, AbEngine1764432000000, Console1764460800000, RankedSlots1764518400000, ReportCache1764604800000, PackedModelStats1764691200000, OffPolicyEvaluation1764786000000];
