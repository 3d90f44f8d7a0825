/**
 * `describeWithBrowser`: a describe block that needs Chromium. It runs when the browser is
 * there and is skipped when it is not (tests/global-setup.ts has already printed the one
 * line saying how to install it, or failed the run under CI=true).
 *
 * `useLiveBrowser`: the setup most browser suites share, a live server and one Chromium,
 * started before the suite and stopped after it, with explicit hook timeouts: on the shared
 * 2-core machine starting a live server (build, migrations, demo seed) has taken over a
 * minute, past vitest's 60 s hook default.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import { chromiumAvailable, launchBrowser, type LaunchOptions } from './browser.ts';
import { startLiveServer, type LiveServer } from './live-server.ts';

export const describeWithBrowser = describe.skipIf(!chromiumAvailable());

/** Start-up and shut-down ceilings for a live server and a browser (they wait for readiness, not for time). */
export const BROWSER_HOOK_TIMEOUT = 240_000;

export interface LiveBrowser {
  live: LiveServer;
  browser: Browser;
}

/**
 * Starts a live server (with `env`) and a browser (with `launch`) before the suite, hands
 * both to `ready` (which may also do the suite's own setup), and stops both after it.
 */
export function useLiveBrowser(
  ready: (s: LiveBrowser) => unknown,
  options: { env?: Record<string, string>; launch?: LaunchOptions } = {},
): void {
  let started: Partial<LiveBrowser> = {};
  beforeAll(async () => {
    started = {};
    started.live = await startLiveServer(options.env);
    started.browser = await launchBrowser(options.launch);
    await ready(started as LiveBrowser);
  }, BROWSER_HOOK_TIMEOUT);
  afterAll(async () => {
    await started.browser?.close();
    await started.live?.stop();
  }, BROWSER_HOOK_TIMEOUT);
}
