/**
 * `NODE_ENV=production npm ci` leaves out the devDependencies, so `npm start` on a checkout
 * without a finished dist/ cannot build. The launcher must say so and say what works:
 * `npm ci --include=dev` (plain `npm ci` under the same NODE_ENV leaves them out again).
 * Run on a copy of the launcher in a directory with no node_modules, as after such an install.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-launcher-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function launch(env: Record<string, string>) {
  fs.mkdirSync(path.join(dir, 'api/build'), { recursive: true });
  for (const file of ['api/build/start.mjs', 'api/build/source-hash.mjs', 'package.json']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  return spawnSync(process.execPath, [path.join(dir, 'api/build/start.mjs'), 'main'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
}

describe('npm start without the build tools', () => {
  it('names NODE_ENV=production as the cause and `npm ci --include=dev` as the fix', () => {
    const run = launch({ NODE_ENV: 'production' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('build tools (devDependencies: tsx, esbuild) are not installed');
    expect(run.stderr).toContain('NODE_ENV=production');
    expect(run.stderr).toContain('npm ci --include=dev && npm run build');
    expect(run.stdout).toBe('');
  });

  it('gives the same fix without NODE_ENV, minus the cause it cannot see', () => {
    const run = launch({});
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('npm ci --include=dev && npm run build');
    expect(run.stderr).not.toContain('NODE_ENV=production');
  });
});
