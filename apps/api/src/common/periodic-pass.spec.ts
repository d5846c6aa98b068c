import { Logger } from '@nestjs/common';
import { PeriodicPass, runBatches } from './periodic-pass';

const quiet = { warn: () => undefined } as unknown as Logger;

describe('runBatches', () => {
  it('runs batches until one comes back short', async () => {
    const sizes = [3, 3, 1, 3];
    let calls = 0;
    expect(await runBatches(async () => sizes[calls++], 3, 10)).toBe(7);
    expect(calls).toBe(3);
  });

  it('stops after maxBatches full batches, and when stopped', async () => {
    let calls = 0;
    expect(await runBatches(async () => (calls++, 5), 5, 4)).toBe(20);
    expect(calls).toBe(4);
    calls = 0;
    expect(
      await runBatches(
        async () => (calls++, 5),
        5,
        4,
        () => calls >= 2,
      ),
    ).toBe(10);
  });
});

describe('PeriodicPass', () => {
  it('shares the pass in flight between concurrent runs, and runs again afterwards', async () => {
    let passes = 0;
    let release!: () => void;
    const runner = new PeriodicPass<number>({
      intervalMs: 60_000,
      log: quiet,
      what: 'test',
      pass: () => new Promise<number>((r) => (release = () => r(++passes))),
    });
    const a = runner.run();
    const b = runner.run();
    expect(a).toBe(b);
    release();
    expect(await a).toBe(1);
    const c = runner.run();
    expect(c).not.toBe(a);
    release();
    expect(await c).toBe(2);
  });

  it('ticks on its interval (and at start), logs a failed tick and keeps ticking; stop() waits for the pass in flight', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
    let passes = 0;
    let finished = 0;
    const runner = new PeriodicPass<void>({
      intervalMs: 20,
      log,
      what: 'test pass',
      runAtStart: true,
      pass: async () => {
        passes++;
        if (passes === 1) throw new Error('boom');
        await new Promise((r) => setTimeout(r, 30));
        finished++;
      },
    });
    runner.start();
    while (passes < 3) await new Promise((r) => setTimeout(r, 5));
    expect(warnings[0]).toBe('test pass failed, retried at the next tick: boom');
    await runner.stop();
    expect(runner.stopped).toBe(true);
    expect(finished).toBe(passes - 1); // the pass in flight at stop() completed before stop() resolved
    const after = passes;
    await new Promise((r) => setTimeout(r, 60));
    expect(passes).toBe(after);
  });
});
