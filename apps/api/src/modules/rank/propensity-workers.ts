import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PropensityJob } from '@slotwise/bandit';

/**
 * Loads propensity-worker.js (the build) or, from the TypeScript sources (tests), propensity-worker.ts through an
 * SWC require hook with the @slotwise/* aliases the parent resolved: the same code runs in both.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
if (workerData.swc) {
  const fs = require('node:fs');
  const path = require('node:path');
  const Module = require('node:module');
  const swc = require(workerData.swc);
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const m = /^@slotwise\\/([a-z-]+)$/.exec(request);
    return resolve.call(this, m ? path.join(workerData.libs, m[1], 'src', 'index.ts') : request, ...rest);
  };
  require.extensions['.ts'] = function (module, filename) {
    const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
      filename, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}
require(workerData.entry);
`;

interface Pending {
  resolve: (propensities: number[]) => void;
  reject: (err: Error) => void;
}

/**
 * A worker thread for deferred Monte-Carlo propensities (issue 13): the re-draws and their counting (about two thirds
 * of a 1,000-draw hybrid decision) leave the API's event loop. Jobs are plain data (PropensityJob: the decision-time
 * score distribution and re-draw stream), so the numbers equal the in-thread computation exactly. The thread starts
 * when `available` is first asked and takes jobs once it has loaded (loading the library takes ~0.1 s built, ~1 s
 * from the TypeScript sources): until then the caller computes in-thread, so the first decisions are not delayed.
 * If the thread cannot start or dies, every job in it fails (the caller computes those in-thread) and later `run`
 * calls fail at once, so propensities are never lost to a broken worker.
 */
export class PropensityWorkers {
  private worker: Worker | null = null;
  private broken: Error | null = null;
  private ready = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly settling = new Set<Promise<void>>();

  /** Whether jobs can go to the thread now (starts it on the first call). */
  get available(): boolean {
    if (!this.worker && !this.broken) this.start();
    return this.ready && !this.broken;
  }

  /** Resolves once the thread takes jobs (false: it could not start). */
  async whenReady(): Promise<boolean> {
    while (!this.available && !this.broken) await new Promise((r) => setTimeout(r, 10));
    return !this.broken;
  }

  /** Jobs sent and not answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  run(job: PropensityJob): Promise<number[]> {
    if (this.broken) return Promise.reject(this.broken);
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const result = new Promise<number[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, job });
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.settling.add(settled);
    void settled.then(() => this.settling.delete(settled));
    return result;
  }

  /** Waits for the jobs in flight, then stops the thread (later jobs fail at once: the caller runs them in-thread). */
  async stop(): Promise<void> {
    await Promise.all([...this.settling]);
    const worker = this.worker;
    this.worker = null;
    this.broken = new Error('propensity workers stopped');
    this.ready = false;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const ts = extname(__filename) === '.ts';
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: {
        entry: join(__dirname, `propensity-worker${ts ? '.ts' : '.js'}`),
        swc: ts ? require.resolve('@swc/core') : null,
        libs: join(__dirname, '..', '..', '..', '..', '..', 'libs'),
      },
    });
    worker.unref(); // never keeps the process alive by itself
    worker.on('message', (m: { ready?: boolean; id: number; propensities?: number[]; error?: string }) => {
      if (m.ready) {
        this.ready = true;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.propensities) p.resolve(m.propensities);
      else p.reject(new Error(m.error ?? 'propensity worker: no result'));
    });
    const fail = (err: Error): void => {
      this.broken = err;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(new Error(`propensity worker exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }
}
