/**
 * Headless Debian Chromium through playwright-core (never a downloaded browser), with the
 * flags this machine needs (no sandbox as root, no background networking to closed hosts).
 *
 * The browser is found at HAVEN_CHROMIUM (default /usr/bin/chromium). Without it the browser
 * suites are skipped with one line saying how to install it (tests/global-setup.ts prints
 * it), except under CI=true, where a missing browser fails the run: a green run that never
 * opened a page would be a lie.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HAVEN_CHROMIUM || '/usr/bin/chromium';

/** The one line a run prints when the browser suites cannot run. */
export const CHROMIUM_MISSING_LINE =
  `[haven tests] Chromium not found at ${CHROMIUM_PATH}: browser suites skipped. ` +
  'Install it with `apt-get install chromium`, or set HAVEN_CHROMIUM to its path.';

/** True when an executable file is at CHROMIUM_PATH. */
export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return fs.statSync(CHROMIUM_PATH).isFile();
  } catch {
    return false;
  }
}

export interface LaunchOptions {
  /** Turns WebAssembly and the JIT off, as Tor Browser's Safer level does (V8 --jitless removes WebAssembly). */
  disableWasm?: boolean;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
  ];
  if (options.disableWasm) args.push('--js-flags=--jitless');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
}
