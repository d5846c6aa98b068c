import { clientKeyOf, SIGN_IN_LIMITS, SignInThrottle, SignInThrottleLimits } from './sign-in-throttle';

/** A throttle on a hand-driven clock. */
function throttle(overrides: Partial<SignInThrottleLimits> = {}) {
  const clock = { t: 1_000_000 };
  const th = new SignInThrottle({ ...SIGN_IN_LIMITS, ...overrides }, () => clock.t);
  /** One attempt; settles it as a failure (or success) when let through; returns the decision's shape. */
  const fail = (ip: string, email: string, succeed = false) => {
    const d = th.attempt(ip, email);
    if (!d.allowed) return { allowed: false, retryAfterMs: d.retryAfterMs, scope: d.scope };
    if (succeed) d.attempt.succeeded();
    else d.attempt.failed();
    return { allowed: true };
  };
  return { clock, th, fail };
}

describe('SignInThrottle', () => {
  it('per (client, e-mail): five free failures, then 1 s, 2 s, 4 s … back-off capped at 15 min', () => {
    const { clock, fail } = throttle();
    for (let i = 0; i < 5; i++) expect(fail('10.0.0.1', 'owner@example.com').allowed).toBe(true);
    expect(fail('10.0.0.1', 'owner@example.com')).toEqual({ allowed: false, retryAfterMs: 1_000, scope: 'account' });
    const waits: number[] = [];
    for (let i = 0; i < 14; i++) {
      const d = fail('10.0.0.1', 'owner@example.com');
      expect(d.allowed).toBe(false);
      waits.push(d.retryAfterMs!);
      clock.t += d.retryAfterMs!;
      expect(fail('10.0.0.1', 'owner@example.com').allowed).toBe(true);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900].map((s) => s * 1000));
  });

  it('an attacker on another client does not lock the owner out; a success clears only its own pair', () => {
    const { fail } = throttle();
    for (let i = 0; i < 5; i++) fail('203.0.113.9', 'owner@example.com');
    expect(fail('203.0.113.9', 'owner@example.com').allowed).toBe(false);
    expect(fail('198.51.100.7', 'owner@example.com', true).allowed).toBe(true); // the owner, elsewhere
    expect(fail('203.0.113.9', 'owner@example.com').allowed).toBe(false); // the attacker still waits
  });

  it('per client over all e-mails: spraying is slowed after 20 failures, and a success does not reset it', () => {
    const { fail } = throttle();
    for (let i = 0; i < 20; i++) expect(fail('10.0.0.2', `user${i}@example.com`).allowed).toBe(true);
    expect(fail('10.0.0.2', 'fresh@example.com')).toEqual({ allowed: false, retryAfterMs: 1_000, scope: 'client' });
    expect(fail('10.0.0.3', 'fresh@example.com').allowed).toBe(true);
  });

  it('global cap: failures of never-signed-in clients share a bucket; clients that signed in bypass it', () => {
    const { clock, fail } = throttle({ globalFailuresPerMinute: 60, globalBurst: 10 });
    expect(fail('192.0.2.1', 'owner@example.com', true).allowed).toBe(true); // the owner signed in once from here (token refunded)
    for (let i = 0; i < 10; i++) expect(fail(`198.51.100.${i}`, 'owner@example.com').allowed).toBe(true);
    expect(fail('198.51.100.200', 'owner@example.com')).toEqual({
      allowed: false,
      retryAfterMs: 1_000,
      scope: 'global',
    });
    expect(fail('192.0.2.1', 'owner@example.com', true).allowed).toBe(true); // trusted: not capped
    clock.t += 1_000;
    expect(fail('198.51.100.200', 'owner@example.com').allowed).toBe(true); // one token per second
    expect(fail('198.51.100.201', 'owner@example.com').allowed).toBe(false);
  });

  it('reserves the attempt while the password is checked: a burst cannot overrun the limit', () => {
    const { th } = throttle();
    const burst = Array.from({ length: 50 }, () => th.attempt('10.0.0.4', 'owner@example.com'));
    expect(burst.filter((d) => d.allowed)).toHaveLength(5);
  });

  it('a cancelled attempt (the database failed) takes its reservation back and trusts no one', () => {
    const { th, fail } = throttle({ globalBurst: 1, globalFailuresPerMinute: 1 });
    const d = th.attempt('10.0.0.6', 'owner@example.com');
    if (!d.allowed) throw new Error('expected the first attempt through');
    expect(th.attempt('10.0.0.7', 'owner@example.com')).toMatchObject({ allowed: false, scope: 'global' }); // token taken
    d.attempt.cancelled();
    d.attempt.succeeded(); // ignored: already settled
    expect(th.size().trusted).toBe(0);
    expect(fail('10.0.0.7', 'owner@example.com').allowed).toBe(true); // the token came back
  });

  it('forgets counters a day after their last failure', () => {
    const { clock, fail } = throttle();
    for (let i = 0; i < 5; i++) fail('10.0.0.5', 'owner@example.com');
    expect(fail('10.0.0.5', 'owner@example.com').allowed).toBe(false);
    clock.t += 24 * 3_600_000;
    expect(fail('10.0.0.5', 'owner@example.com').allowed).toBe(true);
  });

  it('keeps memory bounded by dropping the least recently used counters, never all of them', () => {
    const { th, fail } = throttle({ maxEntries: 100, clientFreeFailures: 1_000, globalBurst: 1e9 });
    for (let i = 0; i < 5; i++) fail('10.9.9.9', 'owner@example.com');
    for (let i = 0; i < 99; i++) fail(`10.1.${i >> 8}.${i & 255}`, 'x@example.com');
    expect(th.size()).toMatchObject({ pairs: 100, clients: 100 });
    expect(fail('10.9.9.9', 'owner@example.com').allowed).toBe(false); // still held (used recently)
    for (let i = 0; i < 500; i++) fail(`10.2.${i >> 8}.${i & 255}`, 'x@example.com');
    expect(th.size()).toMatchObject({ pairs: 100, clients: 100 });
  });

  it('keys clients by IPv4 address or IPv6 /64', () => {
    expect(clientKeyOf('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKeyOf('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKeyOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
  });
});
