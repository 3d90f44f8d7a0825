/**
 * `npm run demo`: one command gives a working throwaway organisation (URLs, demo sign-in,
 * a requester page that takes requests), clearly labelled, on a temporary PGlite directory
 * whatever DATABASE_URL says, deleted when it stops; refused in production mode.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from './helpers/haven-process.ts';

const running: ReturnType<typeof runScript>[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
  }
});

async function waitFor(read: () => string, pattern: RegExp, run: ReturnType<typeof runScript>): Promise<RegExpExecArray> {
  for (;;) {
    const m = pattern.exec(read());
    if (m) return m;
    if (run.child.exitCode !== null) throw new Error(`exited early: ${run.stdout()} ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run demo', () => {
  it('starts a labelled demo organisation that takes requests, on a temporary directory deleted on exit', { timeout: 120_000 }, async () => {
    // A DATABASE_URL that must never be touched (nothing listens there).
    const run = runScript('seeds/demo-run.ts', { HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/real' });
    running.push(run);
    const dir = (await waitFor(run.stdout, /Demo data \(deleted on exit\): (\S+)/, run))[1]!;
    const out = run.stdout();
    expect(out).toContain('HAVEN DEMO');
    expect(out).toContain('NEVER use it for real requests');
    expect(out).toMatch(/Dashboard sign-in: demo\.admin \/ \S+/);
    const requesterUrl = /Requester site:\s+(\S+)/.exec(out)![1]!;
    expect(fs.existsSync(dir)).toBe(true);
    const intake = await fetch(new URL('/api/v1/intake', requesterUrl));
    expect(intake.status).toBe(200);
    expect(JSON.stringify(await intake.json())).toContain('Legal help');
    expect(await (await fetch(requesterUrl)).text()).toContain('name="haven-root-public-key"');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('refuses to run in production mode', async () => {
    const run = runScript('seeds/demo-run.ts', { HAVEN_MODE: 'production' });
    running.push(run);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('refusing to run the demo');
  });
});
