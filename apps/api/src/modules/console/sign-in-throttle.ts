import { LRUCache } from 'lru-cache';
import { isIPv6 } from 'node:net';

/** Limits of {@link SignInThrottle}; the defaults are the documented policy (docs/console.md). */
export interface SignInThrottleLimits {
  /** Failed sign-ins of one (client, e-mail) pair before back-off starts. */
  pairFreeFailures: number;
  /** Failed sign-ins of one client, over all e-mails, before back-off starts. */
  clientFreeFailures: number;
  /** First back-off delay, doubled per further failure. */
  baseDelayMs: number;
  /** Longest back-off delay. */
  maxDelayMs: number;
  /** A counter is forgotten this long after its last failure. */
  forgetAfterMs: number;
  /** Global cap: failed sign-ins (from clients that never signed in) per minute over all clients, and the burst. */
  globalFailuresPerMinute: number;
  globalBurst: number;
  /** A client that signed in successfully bypasses the global cap for this long. */
  trustedForMs: number;
  /** Most counters kept per kind (clients, pairs, trusted clients): the least recently used are dropped first. */
  maxEntries: number;
}

export const SIGN_IN_LIMITS: SignInThrottleLimits = {
  pairFreeFailures: 5,
  clientFreeFailures: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 24 * 3_600_000,
  globalFailuresPerMinute: 120,
  globalBurst: 120,
  trustedForMs: 30 * 86_400_000,
  maxEntries: 20_000,
};

interface Counter {
  failures: number;
  /** Time of the last counted failure (ms). */
  last: number;
}

/** An attempt let through: settle it with exactly one of succeeded / failed / cancelled (later calls are ignored). */
export interface SignInAttempt {
  /** Right password: clears the (client, e-mail) counter and trusts the client for the global cap. */
  succeeded(): void;
  /** Wrong pair: the reserved failure stays. */
  failed(): void;
  /** Not decided (e.g. the database failed): the reservation is taken back, nothing else changes. */
  cancelled(): void;
}

export type ThrottleDecision =
  | { allowed: true; attempt: SignInAttempt }
  | { allowed: false; retryAfterMs: number; scope: 'account' | 'client' | 'global' };

/**
 * The client an attempt comes from: the IPv4 address, or the /64 prefix of an IPv6 address (one subscriber usually
 * holds a whole /64, so single addresses would be free to rotate). IPv4-mapped IPv6 counts as IPv4.
 */
export function clientKeyOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Console sign-in throttling with exponential back-off, in bounded memory.
 *
 * - Per (client, e-mail): after `pairFreeFailures` failures, each further attempt must wait
 *   `min(baseDelay · 2^(n − free), maxDelay)` after the last failure (n = failures so far): 1 s, 2 s, 4 s … 15 min.
 * - Per client over all e-mails: the same with `clientFreeFailures` (password spraying from one client).
 * - Global: failed sign-ins from clients that never signed in successfully draw on one token bucket
 *   (`globalFailuresPerMinute`, burst `globalBurst`); when it is empty such clients wait for the next token.
 *   Clients that signed in within `trustedForMs` bypass it, so an attack from elsewhere does not lock the owner out.
 * - A success clears its (client, e-mail) counter only: signing in to one account does not reset a client's spraying
 *   counter. Counters are forgotten `forgetAfterMs` after their last failure.
 * - Memory: three LRU maps of at most `maxEntries` each; when full, the least recently used entry goes (never the
 *   whole map). Filling a map needs failures from many new clients, which the global bucket paces.
 *
 * An attempt counts as a failure from the moment it is let through (concurrent bursts cannot overrun a limit while
 * passwords are being verified); `succeeded()` takes the reservation back. Per process: each replica limits alone.
 */
export class SignInThrottle {
  private readonly pairs: LRUCache<string, Counter>;
  private readonly clients: LRUCache<string, Counter>;
  private readonly trusted: LRUCache<string, number>;
  private tokens: number;
  private tokensAt: number;

  constructor(
    private readonly limits: SignInThrottleLimits = SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.pairs = new LRUCache({ max: limits.maxEntries });
    this.clients = new LRUCache({ max: limits.maxEntries });
    this.trusted = new LRUCache({ max: limits.maxEntries });
    this.tokens = limits.globalBurst;
    this.tokensAt = now();
  }

  /** Decide on an attempt by `ip` for `email` (already normalized); when allowed, the attempt is reserved. */
  attempt(ip: string, email: string): ThrottleDecision {
    const t = this.now();
    const client = clientKeyOf(ip);
    const pairKey = `${client} ${email}`;
    const pair = this.live(this.pairs, pairKey, t);
    const byClient = this.live(this.clients, client, t);
    const pairWait = this.wait(pair, this.limits.pairFreeFailures, t);
    if (pairWait > 0) return { allowed: false, retryAfterMs: pairWait, scope: 'account' };
    const clientWait = this.wait(byClient, this.limits.clientFreeFailures, t);
    if (clientWait > 0) return { allowed: false, retryAfterMs: clientWait, scope: 'client' };
    const isTrusted = (this.trusted.get(client) ?? -Infinity) > t - this.limits.trustedForMs;
    if (!isTrusted) {
      this.refill(t);
      if (this.tokens < 1)
        return {
          allowed: false,
          retryAfterMs: Math.ceil(((1 - this.tokens) * 60_000) / this.limits.globalFailuresPerMinute),
          scope: 'global',
        };
      this.tokens -= 1;
    }
    // Reserve: count the attempt as failed until it says otherwise.
    this.pairs.set(pairKey, { failures: (pair?.failures ?? 0) + 1, last: t });
    this.clients.set(client, { failures: (byClient?.failures ?? 0) + 1, last: t });
    let settled = false;
    const takeBack = (clearPair: boolean) => {
      const p = this.pairs.get(pairKey);
      if (p && (clearPair || p.failures <= 1)) this.pairs.delete(pairKey);
      else if (p) p.failures -= 1;
      const c = this.clients.get(client);
      if (c) c.failures = Math.max(0, c.failures - 1);
      if (!isTrusted) this.tokens = Math.min(this.limits.globalBurst, this.tokens + 1);
    };
    return {
      allowed: true,
      attempt: {
        failed: () => {
          settled = true;
        },
        succeeded: () => {
          if (settled) return;
          settled = true;
          takeBack(true);
          this.trusted.set(client, this.now());
        },
        cancelled: () => {
          if (settled) return;
          settled = true;
          takeBack(false);
        },
      },
    };
  }

  /** Entries held (for tests and metrics): pairs, clients, trusted clients. */
  size(): { pairs: number; clients: number; trusted: number } {
    return { pairs: this.pairs.size, clients: this.clients.size, trusted: this.trusted.size };
  }

  private live(map: LRUCache<string, Counter>, key: string, t: number): Counter | undefined {
    const c = map.get(key);
    if (c && t - c.last >= this.limits.forgetAfterMs) {
      map.delete(key);
      return undefined;
    }
    return c;
  }

  /** Milliseconds still to wait before the next attempt (0: go). */
  private wait(c: Counter | undefined, free: number, t: number): number {
    if (!c || c.failures < free) return 0;
    const delay = Math.min(this.limits.baseDelayMs * 2 ** (c.failures - free), this.limits.maxDelayMs);
    return Math.max(0, c.last + delay - t);
  }

  private refill(t: number): void {
    const elapsed = Math.max(0, t - this.tokensAt);
    this.tokens = Math.min(
      this.limits.globalBurst,
      this.tokens + (elapsed * this.limits.globalFailuresPerMinute) / 60_000,
    );
    this.tokensAt = t;
  }
}
