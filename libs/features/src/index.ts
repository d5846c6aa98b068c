/**
 * Online feature maths: sliding windows by time buckets and exponentially decayed sums with a half-life, their
 * incremental states (mergeable in any order, so late and out-of-order events are applied at their own time) and
 * the aggregations read from them. Pure TypeScript: no framework, database or I/O.
 */
export * from './window';
export * from './history';
