import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KEY, TestResponse } from './test-app';

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
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', SLOTWISE_ADMIN_KEY: ADMIN_KEY, SLOTWISE_DEMO: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the API exited with code ${code} before listening:\n${stderr.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`the API did not start within 120 s:\n${stderr.slice(-2000)}`)), 120_000).unref();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    async call(method, path, body) {
      try {
        const res = await fetch(url + path, {
          method,
          headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        return { status: res.status, headers: res.headers, body: parsed, text };
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
