import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Keys are 256 random bits, so a fast hash with a server-side pepper is enough (no password KDF):
 * guessing is infeasible, and a leaked table without the pepper does not verify keys.
 */
export class ApiKeyHasher {
  constructor(private readonly pepper: string) {}

  hash(key: string): string {
    return createHash('sha256').update(this.pepper).update('\0').update(key).digest('hex');
  }

  matches(key: string, storedHash: string): boolean {
    const a = Buffer.from(this.hash(key), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  static generateKey(): string {
    return `sw_${randomBytes(32).toString('base64url')}`;
  }

  static prefixOf(key: string): string {
    return key.slice(0, 10);
  }
}
