/** Starts the built API (dist/apps/api/src/main.js) as a child process on a fresh embedded database. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ChildApi {
  url: string;
  key: string;
  /** The last lines the API wrote to stderr (its error logs). */
  stderrTail(): string;
  stop(): Promise<void>;
}

export function apiEntry(): string {
  const candidates = [
    resolve(__dirname, '..', '..', 'api', 'src', 'main.js'),
    resolve(process.cwd(), 'dist', 'apps', 'api', 'src', 'main.js'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(`the built API is missing (looked in ${candidates.join(', ')}); run node scripts/build.js`);
  return found;
}

/**
 * Resolves with the URL a spawned API prints ("listening on http://…") on stdout; rejects if it exits first or does not
 * listen within `timeoutMs`, with the tail of its stderr (`stderrSoFar`) in the message.
 */
export function waitForListening(child: ChildProcess, stderrSoFar: () => string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolveUrl(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the API exited with code ${code} before listening:\n${stderrSoFar().slice(-2000)}`)),
    );
    setTimeout(
      () => reject(new Error(`the API did not start within ${timeoutMs / 1000} s:\n${stderrSoFar().slice(-2000)}`)),
      timeoutMs,
    ).unref();
  });
}

/**
 * The child uses the embedded PostgreSQL in a temporary folder, or the server in `databaseUrl` (a fresh experiment
 * key per run keeps runs apart). Its admin key is generated here and passed in SLOTWISE_ADMIN_KEY.
 */
export async function startChildApi(
  options: { databaseUrl?: string; log?: (line: string) => void } = {},
): Promise<ChildApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotwise-sim-'));
  const key = `sw_sim_${randomBytes(24).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    // eslint-disable-next-line no-restricted-properties -- a separate CLI: the child API inherits its environment
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    SLOTWISE_DATA_DIR: join(dataDir, 'data'),
    SLOTWISE_ADMIN_KEY: key,
    SLOTWISE_DEMO: 'off',
    LOG_LEVEL: 'warn',
    // Fewer, larger posterior flushes: the simulator's request rate is far above a product's per-experiment rate.
    // eslint-disable-next-line no-restricted-properties -- see above
    MODEL_FLUSH_MS: process.env.MODEL_FLUSH_MS ?? '5000',
    DATABASE_URL: options.databaseUrl ?? '',
  };
  const child: ChildProcess = spawn(process.execPath, [apiEntry()], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = await waitForListening(child, () => stderr, 60_000);
  options.log?.(
    `API started at ${url} (${options.databaseUrl ? 'PostgreSQL server' : `embedded database in ${dataDir}`})`,
  );
  return {
    url,
    key,
    stderrTail: () => stderr.slice(-4000),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
