export { murmur3x86_32, murmur3String, utf8 } from './murmur3';
export { BUCKETS, HASH_VERSIONS, DEFAULT_HASH_VERSION, isHashVersion, hashUnit, bucketOf, trafficSalt } from './hash';
export type { HashVersion } from './hash';
export type { ValidationError } from './errors';
export {
  rangesSize,
  inRanges,
  normalizeRanges,
  countsFromWeights,
  ownerTable,
  rebalance,
  diffAllocations,
  validateAllocation,
  validateRangeSets,
} from './ranges';
export type { BucketRange, Allocation, AllocationTarget, OwnerChange, RangeSet } from './ranges';
export {
  RULE_OPS,
  RULE_LIMITS,
  validateRule,
  parseRule,
  compileRule,
  evaluateRule,
  compilePattern,
  unsupportedRegexReason,
} from './targeting';
export {
  CONDITION_FIELD_OPS,
  CONDITION_LOGICAL_OPS,
  conditionToRule,
  isCondition,
  parseTargeting,
  validateTargeting,
} from './conditions';
export type { ConditionError } from './conditions';
export type { Rule, Scalar, Attributes, ComparisonOp, SetOp, OrderOp, RulePredicate } from './targeting';
export {
  planLayer,
  layerPlacement,
  layerShares,
  validateLayer,
  validatePlacement,
  assertLayerExclusive,
  percentToBuckets,
} from './layers';
export type { Layer, LayerPlacement, LayerPlan } from './layers';
export { assign, compileExperiment, rampVariants, trafficBuckets, validateAssignable } from './assign';
export type { AssignableExperiment, Assignment, AssignmentReason, CompiledExperiment, VariantSpec } from './assign';
