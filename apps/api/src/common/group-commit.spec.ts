import { GroupCommit } from './group-commit';

/** A writer whose batches stay open until the test lets them commit. */
function controlledWriter() {
  const batches: Array<{ items: number[]; commit: () => void; fail: (err: Error) => void }> = [];
  const write = (items: number[]) =>
    new Promise<void>((commit, fail) => {
      batches.push({ items, commit, fail });
    });
  return { batches, write };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes the calls of one event-loop turn as one batch and resolves them only when it commits', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, 100);
    const resolved: number[] = [];
    const calls = [1, 2, 3].map((i) => gc.submit(i).then(() => resolved.push(i)));
    await settle();
    expect(w.batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    await settle();
    expect(resolved).toEqual([]);
    w.batches[0].commit();
    await Promise.all(calls);
    expect(resolved).toEqual([1, 2, 3]);
  });

  it('collects the calls made while a batch is being written into the next one', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, 100);
    const first = gc.submit(1);
    await settle();
    const later = [2, 3, 4].map((i) => gc.submit(i));
    await settle();
    expect(w.batches).toHaveLength(1); // one batch in flight at a time
    w.batches[0].commit();
    await first;
    await settle();
    expect(w.batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    w.batches[1].commit();
    await Promise.all(later);
  });

  it('a failed batch is retried one item at a time: only the caller of the bad item is rejected, then the queue goes on', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, 100);
    const first = [1, 2].map((i) => gc.submit(i));
    await settle();
    const next = gc.submit(3);
    const boom = new Error('constraint violated');
    w.batches[0].fail(boom);
    await settle();
    expect(w.batches.map((b) => b.items)).toEqual([[1, 2], [1]]);
    w.batches[1].fail(boom);
    await expect(first[0]).rejects.toBe(boom);
    await settle();
    expect(w.batches[2].items).toEqual([2]);
    w.batches[2].commit();
    await expect(first[1]).resolves.toBeUndefined();
    await settle();
    expect(w.batches[3].items).toEqual([3]);
    w.batches[3].commit();
    await expect(next).resolves.toBeUndefined();
  });

  it('a failed single-item batch rejects its caller without a retry', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, 100);
    const only = gc.submit(7);
    await settle();
    const boom = new Error('database down');
    w.batches[0].fail(boom);
    await expect(only).rejects.toBe(boom);
    expect(w.batches).toHaveLength(1);
  });

  it('bounds the batch size', async () => {
    const sizes: number[] = [];
    const gc = new GroupCommit(async (items: number[]) => void sizes.push(items.length), 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => gc.submit(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('with several batches in flight, shares the waiting calls between the writers', async () => {
    const w = controlledWriter();
    const gc = new GroupCommit(w.write, 100, 2);
    const calls = Array.from({ length: 6 }, (_, i) => gc.submit(i));
    await settle();
    expect(w.batches.map((b) => b.items)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    for (const b of w.batches) b.commit();
    await Promise.all(calls);
  });

  it('drain waits for queued and in-flight batches', async () => {
    const written: number[] = [];
    const gc = new GroupCommit(async (items: number[]) => {
      await new Promise((r) => setTimeout(r, 5));
      written.push(...items);
    }, 2);
    const calls = [1, 2, 3].map((i) => gc.submit(i));
    await gc.drain();
    expect(written).toEqual([1, 2, 3]);
    await Promise.all(calls);
    await gc.drain(); // idle: returns at once
  });
});
