import { murmur3String } from './murmur3';

/** Every bucket space in this library (variants, traffic, layers, holdouts) has this many buckets. */
export const BUCKETS = 10_000;

/** Hash versions this build understands. A new version is added, never changed in place. */
export const HASH_VERSIONS = [1] as const;
export type HashVersion = (typeof HASH_VERSIONS)[number];
export const DEFAULT_HASH_VERSION: HashVersion = 1;

export function isHashVersion(v: unknown): v is HashVersion {
  return typeof v === 'number' && (HASH_VERSIONS as readonly number[]).includes(v);
}

/**
 * The 32-bit hash of (salt, unit id) under a hash version.
 * Version 1: MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of `${salt}:${unitId}`.
 */
export function hashUnit(salt: string, unitId: string, version: HashVersion = DEFAULT_HASH_VERSION): number {
  switch (version) {
    case 1:
      return murmur3String(`${salt}:${unitId}`, 0);
    default:
      throw new RangeError(`unknown hashVersion ${String(version)}`);
  }
}

/** The bucket, in [0, 10000), of (salt, unit id): `hashUnit(...) mod 10000`. */
export function bucketOf(salt: string, unitId: string, version: HashVersion = DEFAULT_HASH_VERSION): number {
  return hashUnit(salt, unitId, version) % BUCKETS;
}

/** The salt of the traffic hash of an experiment: independent of its variant hash. */
export function trafficSalt(experimentSalt: string): string {
  return `${experimentSalt}:traffic`;
}
