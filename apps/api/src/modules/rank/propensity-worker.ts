/**
 * Worker-thread entry of {@link PropensityWorkers}: runs deferred propensity jobs (runPropensityJob, exactly the
 * in-thread numbers) and posts each result back with its id.
 */
import { parentPort } from 'node:worker_threads';
import { type PropensityJob, runPropensityJob } from '@slotwise/bandit';

const port = parentPort;
if (port) {
  port.postMessage({ ready: true });
  port.on('message', (m: { id: number; job: PropensityJob }) => {
    try {
      port.postMessage({ id: m.id, propensities: runPropensityJob(m.job) });
    } catch (err) {
      port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
