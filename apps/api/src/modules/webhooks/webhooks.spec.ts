import { createRng } from '@slotwise/bandit';
import { DestinationPolicy } from './destination-policy';
import { MAX_DELIVERY_AGE_MS, MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-schedule';
import { generateSecret, secretKey, sign, verify } from './signing';

describe('Standard Webhooks signing', () => {
  // The published Standard Webhooks test vector (standard-webhooks/standard-webhooks, libraries' tests).
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('reproduces the specification test vector', () => {
    expect(sign(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies the vector among several signatures, and refuses a changed body, a wrong secret or a stale timestamp', () => {
    const headers = {
      id,
      timestamp: String(timestamp),
      signature: 'v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    expect(verify(secret, headers, body, timestamp + 10)).toBe(true);
    expect(verify(secret, headers, '{"test": 2432232315}', timestamp)).toBe(false);
    expect(verify(generateSecret(), headers, body, timestamp)).toBe(false);
    expect(verify(secret, headers, body, timestamp + 301)).toBe(false);
  });

  it('generates whsec_ secrets of 32 random bytes and refuses malformed ones', () => {
    const s = generateSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(s)).toHaveLength(32);
    expect(() => secretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow(/whsec_/);
    expect(() => secretKey('whsec_c2hvcnQ=')).toThrow(/24–64 bytes/);
  });
});

describe('DestinationPolicy (SSRF)', () => {
  const strict = new DestinationPolicy('off');
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '0:0:0:0:0:ffff:7f00:1',
  ])('refuses %s by default', (a) => {
    expect(strict.refusal(a)).toMatch(/non-public|private/);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (a) => {
      expect(strict.refusal(a)).toBeNull();
    },
  );

  it('allows listed CIDRs only, or everything when on', () => {
    const listed = new DestinationPolicy(['127.0.0.0/8', '::1']);
    expect(listed.refusal('127.0.0.1')).toBeNull();
    expect(listed.refusal('::1')).toBeNull();
    expect(listed.refusal('10.0.0.1')).not.toBeNull();
    expect(new DestinationPolicy('on').refusal('10.0.0.1')).toBeNull();
  });

  it('judges every address a name resolves to (localhost is loopback)', async () => {
    await expect(strict.resolve('localhost')).rejects.toThrow(/non-public/);
    await expect(strict.resolve('[::1]')).rejects.toThrow(/non-public/);
    await expect(new DestinationPolicy('on').resolve('127.0.0.1')).resolves.toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
  });
});

describe('retry schedule', () => {
  it('doubles from the base with equal jitter in [d/2, d], capped at 1 h, reproducibly from a seeded generator', () => {
    const a = createRng(7);
    const b = createRng(7);
    const first = [1, 2, 3, 4, 20, 40].map((n) => retryDelayMs(n, 5000, () => a.uniform()));
    expect([1, 2, 3, 4, 20, 40].map((n) => retryDelayMs(n, 5000, () => b.uniform()))).toEqual(first);
    [5000, 10000, 20000, 40000, MAX_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS].forEach((d, i) => {
      expect(first[i]).toBeGreaterThanOrEqual(d / 2);
      expect(first[i]).toBeLessThanOrEqual(d);
    });
    expect(retryDelayMs(3, 5000, () => 0)).toBe(10000);
    expect(retryDelayMs(3, 5000, () => 1)).toBe(20000);
  });

  it('reaches the 24 h limit after a few dozen attempts at the default base (at least 24 attempts, at most 60)', () => {
    let elapsed = 0;
    let attempts = 1;
    while (elapsed < MAX_DELIVERY_AGE_MS) elapsed += retryDelayMs(attempts++, 5000, () => 0.5);
    expect(attempts).toBeGreaterThanOrEqual(24);
    expect(attempts).toBeLessThanOrEqual(60);
  });
});
