/** Deliveries are retried until this long after they were enqueued (or redelivered), then marked failed. */
export const MAX_DELIVERY_AGE_MS = 24 * 3_600_000;
/** The longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * Wait before attempt `attempt + 1` after `attempt` failed (attempt ≥ 1): exponential backoff with "equal jitter"
 * (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015): d = min(cap, base·2^(attempt−1)), wait
 * d/2 + u·d/2 with u ~ U[0, 1) from the injected `uniform` (a seeded generator in tests). Milliseconds.
 * With base 5 s: ≈ 5, 10, 20, 40 s … then about every hour up to 24 h (≈ 34 attempts).
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  uniform: () => number,
  capMs = MAX_RETRY_DELAY_MS,
): number {
  const d = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.round(d / 2 + uniform() * (d / 2));
}
