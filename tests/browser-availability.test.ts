/**
 * `npm test` tells the truth about the browser. A developer without Chromium gets the
 * browser suites skipped with one line saying how to install it, and a passing run of the
 * rest; under CI=true the same missing browser fails the run. Checked by running vitest in a
 * child process on one small browser suite with HAVEN_CHROMIUM pointing nowhere.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');

async function runBrowserSuiteWithout(ci: boolean): Promise<{ code: number; output: string }> {
  // The child must not think it is a worker of this run.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI' && k !== 'NODE_OPTIONS'));
  env.HAVEN_CHROMIUM = '/nonexistent/chromium';
  if (ci) env.CI = 'true';
  // The no-JavaScript block is the smallest browser suite; the name filter leaves out the rest.
  const args = [VITEST, 'run', 'tests/requester-browser.test.ts', '-t', 'JavaScript off', '--reporter=default', '--reporter=./tests/plain-summary-reporter.ts'];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env, timeout: 90_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('a missing Chromium', () => {
  it('skips the browser suites with one line saying how to install it, and the run passes', { timeout: 100_000 }, async () => {
    const { code, output } = await runBrowserSuiteWithout(false);
    const lines = output.split('\n').filter((l) => l.includes('Chromium not found'));
    expect(lines).toEqual(['[haven tests] Chromium not found at /nonexistent/chromium: browser suites skipped. Install it with `apt-get install chromium`, or set HAVEN_CHROMIUM to its path.']);
    expect(output).toMatch(/^0 passed, 0 failed, \d+ skipped$/m);
    expect(code).toBe(0);
  });

  it('fails the run loudly under CI=true', { timeout: 100_000 }, async () => {
    const { code, output } = await runBrowserSuiteWithout(true);
    expect(code).not.toBe(0);
    expect(output).toContain('CI=true but Chromium is not at /nonexistent/chromium');
    expect(output).not.toContain('browser suites skipped');
  });
});
