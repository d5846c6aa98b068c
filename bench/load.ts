import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';

/**
 * A small closed-loop HTTP load generator, run in a child process so it does not share the server's event loop:
 * `connections` keep-alive connections each send the next request as soon as the previous answer arrives.
 */
export interface LoadSpec {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  /** bodies sent in turn */
  bodies: string[];
  connections: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  non2xx: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--load-worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => {
      resolve(m as LoadResult);
      child.kill();
    });
    child.once('error', reject);
    child.send(spec);
  });
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function worker(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  let next = 0;
  let errors = 0;
  let non2xx = 0;
  const latencies: number[] = [];
  let measuring = false;
  let stop = false;
  const one = () =>
    new Promise<void>((done) => {
      const body = spec.bodies[next++ % spec.bodies.length];
      const started = process.hrtime.bigint();
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: spec.method,
          headers: { ...spec.headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            if (measuring) {
              latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
              if ((res.statusCode ?? 0) >= 300) non2xx++;
            }
            done();
          });
        },
      );
      req.on('error', () => {
        if (measuring) errors++;
        done();
      });
      req.end(body);
    });
  const loop = async () => {
    while (!stop) await one();
  };
  const loops = Array.from({ length: spec.connections }, loop);
  await new Promise((r) => setTimeout(r, spec.warmupMs));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, spec.durationMs));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  stop = true;
  await Promise.all(loops);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const requests = latencies.length;
  return {
    requests,
    errors,
    non2xx,
    seconds,
    requestsPerSecond: requests / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    meanMs: requests ? latencies.reduce((a, b) => a + b, 0) / requests : 0,
  };
}

if (process.argv.includes('--load-worker')) {
  process.once('message', (spec) => {
    void worker(spec as LoadSpec).then((r) => process.send!(r));
  });
}
