import { LruSet } from './lru';

describe('LruSet', () => {
  it('evicts the least recently used key beyond capacity', () => {
    const s = new LruSet(3);
    s.add('a');
    s.add('b');
    s.add('c');
    expect(s.has('a')).toBe(true); // a is now the most recent; b is the oldest
    s.add('d');
    expect(s.size).toBe(3);
    expect(s.has('b')).toBe(false);
    expect(s.has('a')).toBe(true);
    expect(s.has('c')).toBe(true);
    expect(s.has('d')).toBe(true);
  });

  it('re-adding a key refreshes it without growing', () => {
    const s = new LruSet(2);
    s.add('x');
    s.add('y');
    s.add('x');
    s.add('z');
    expect([s.has('x'), s.has('y'), s.has('z')]).toEqual([true, false, true]);
    expect(s.size).toBe(2);
  });

  it('deletes by predicate and refuses a bad capacity', () => {
    const s = new LruSet(10);
    for (const k of ['e1:1:u1', 'e1:1:u2', 'e2:3:u1']) s.add(k);
    expect(s.deleteWhere((k) => k.endsWith(':u1'))).toBe(2);
    expect(s.size).toBe(1);
    expect(s.has('e1:1:u2')).toBe(true);
    expect(() => new LruSet(0)).toThrow(RangeError);
  });
});
