import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitForListening } from '../../apps/simulator/src/server';
import { ADMIN_KEY, callApi, TestResponse } from './test-app';

/** The built API (`npm run build`); CI builds before it tests. */
export const BUILT_API = join(__dirname, '..', '..', 'dist', 'apps', 'api', 'src', 'main.js');
export const HAVE_BUILT_API = existsSync(BUILT_API);

export interface ChildApi {
  url: string;
  /** Call the API over HTTP; a connection failure (the process died) answers status 0. */
  call(method: string, path: string, body?: unknown): Promise<TestResponse>;
  /** SIGKILL: no shutdown hook runs (no flush, no lease release). */
  kill9(): Promise<void>;
  /** SIGTERM: a graceful stop (last flush). */
  stop(): Promise<void>;
  stderr(): string;
}

/** Starts the built API as a separate process (real kill -9, real separate replicas) with `env` over the test defaults. */
export async function startChildApi(env: Record<string, string>): Promise<ChildApi> {
  const child: ChildProcess = spawn(process.execPath, [BUILT_API], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      SLOTWISE_ADMIN_KEY: ADMIN_KEY,
      SLOTWISE_DEMO: 'off',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const url = await waitForListening(child, () => stderr, 120_000);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    async call(method, path, body) {
      try {
        return await callApi(url, method, path, { body });
      } catch (err) {
        return { status: 0, headers: new Headers(), body: undefined, text: String(err) };
      }
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stderr: () => stderr,
  };
}
