/**
 * `describeWithBrowser`: a describe block that needs Chromium. It runs when the browser is
 * there and is skipped when it is not (tests/global-setup.ts has already printed the one
 * line saying how to install it, or failed the run under CI=true).
 */
import { describe } from 'vitest';
import { chromiumAvailable } from './browser.ts';

export const describeWithBrowser = describe.skipIf(!chromiumAvailable());
