import { CatalogCache } from './catalog-cache';
import { ItemEvents } from './item-events';
import type { ItemsRepository } from './items.repository';

/** An in-memory stand-in for the items table that counts queries (the cache's contract is "no query when cached"). */
function catalogOf(rows: Record<string, Record<string, number>>): {
  cache: CatalogCache;
  events: ItemEvents;
  queries: string[][];
  rows: typeof rows;
} {
  const queries: string[][] = [];
  const items = {
    findByIds: async (ids: string[]) => {
      queries.push([...ids]);
      return ids.filter((id) => rows[id]).map((id) => ({ id, features: rows[id] }));
    },
  } as unknown as ItemsRepository;
  const events = new ItemEvents();
  return { cache: new CatalogCache(items, events), events, queries, rows };
}

describe('CatalogCache.vectors', () => {
  const order = ['price', 'age'];

  it('returns the features in the asked order, null vectors for missing names or items, one query for the misses', async () => {
    const { cache, queries } = catalogOf({ a: { age: 2, price: 1, extra: 9 }, b: { price: 5 } });
    const got = await cache.vectors(['a', 'b', 'ghost'], order);
    expect(Array.from(got.get('a')!.vector!)).toEqual([1, 2]);
    expect(got.get('b')).toEqual({ features: { price: 5 }, vector: null });
    expect(got.get('ghost')).toEqual({ features: null, vector: null });
    expect(queries).toEqual([['a', 'b', 'ghost']]);
    await cache.vectors(['a', 'b'], order);
    expect(queries).toHaveLength(1);
  });

  it('memoises the vector per schema (same array, or the same names in another array) and recomputes for another order', async () => {
    const { cache } = catalogOf({ a: { age: 2, price: 1 } });
    const first = (await cache.vectors(['a'], order)).get('a')!.vector;
    expect((await cache.vectors(['a'], order)).get('a')!.vector).toBe(first);
    expect((await cache.vectors(['a'], [...order])).get('a')!.vector).toBe(first);
    expect(Array.from((await cache.vectors(['a'], ['age', 'price'])).get('a')!.vector!)).toEqual([2, 1]);
  });

  it('an item write drops the entry, so the next call reads the new features', async () => {
    const { cache, events, queries, rows } = catalogOf({ a: { age: 2, price: 1 } });
    await cache.vectors(['a'], order);
    rows.a = { age: 3, price: 4 };
    events.changed(['a']);
    expect(Array.from((await cache.vectors(['a'], order)).get('a')!.vector!)).toEqual([4, 3]);
    expect(queries).toHaveLength(2);
  });
});
