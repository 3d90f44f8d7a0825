/**
 * Headless Debian Chromium through playwright-core (never a downloaded browser), with the
 * flags this machine needs (no sandbox as root, no background networking to closed hosts).
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
