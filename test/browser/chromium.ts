import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run), or CHROMIUM_PATH. */
export function findChromium(): string | null {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
  ].filter((p): p is string => Boolean(p));
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** CI sets SLOTWISE_REQUIRE_BROWSER=1: there a missing Chromium fails the tests instead of skipping them. */
export const BROWSER_REQUIRED = process.env.SLOTWISE_REQUIRE_BROWSER === '1';

/** No outside network on these machines: no QUIC, sync, component updates or background fetches. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh --user-data-dir (a persistent context on a new temporary profile). */
export async function launchChromium(
  executablePath: string,
  viewport = { width: 1280, height: 900 },
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'slotwise-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    deviceScaleFactor: 1,
    timeout: 30_000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
