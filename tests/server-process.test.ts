/**
 * `npm start` as a newcomer runs it: both sites answer, data survives a restart, a second
 * process on the same data directory is refused, SIGTERM shuts down cleanly and a bad
 * setting gives one clear line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript, startHaven, type HavenProcess } from './helpers/haven-process.ts';

const running: HavenProcess[] = [];
const dirs: string[] = [];

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-data-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm start on the embedded database', () => {
  it('answers /api/v1/health on both ports, keeps data across a restart and stops on SIGTERM', { timeout: 120_000 }, async () => {
    const dataDir = tempDataDir();
    const first = await startHaven({ HAVEN_DATA_DIR: dataDir });
    running.push(first);
    expect(first.requesterUrl).not.toBe(first.triageUrl);
    // A newcomer is given the one-time setup link (and the demo), not left with a form that cannot send.
    await expect.poll(() => first.stdout()).toMatch(/Setup link:\s+http:\/\/\S+#setup=[A-Za-z0-9_-]{43}\n/);
    expect(first.stdout()).toContain('npm run demo');
    expect(first.stdout()).not.toContain('HAVEN_BEHIND_TLS is true');
    for (const url of [first.requesterUrl, first.triageUrl]) {
      const res = await fetch(new URL('/api/v1/health', url));
      expect(res.status).toBe(200);
    }
    const page = await fetch(first.requesterUrl);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toMatch(/<script type="module" src="\/assets\/main-[0-9a-f]{12}\.js" integrity="sha384-/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain('stopping');
    expect(fs.existsSync(path.join(dataDir, 'haven.lock'))).toBe(false);

    // The restart finds the migrated database where it left it: nothing to migrate again.
    const second = await startHaven({ HAVEN_DATA_DIR: dataDir });
    running.push(second);
    expect(first.stdout()).toContain('"event":"migrated"');
    expect(second.stdout()).not.toContain('"event":"migrated"');
    const res = await fetch(new URL('/api/v1/health', second.triageUrl));
    expect(res.status).toBe(200);
  });

  it('behind TLS, says the setup link must be opened through the HTTPS address (the printed one is refused)', { timeout: 120_000 }, async () => {
    const haven = await startHaven({ HAVEN_DATA_DIR: tempDataDir(), HAVEN_BEHIND_TLS: 'true' });
    running.push(haven);
    const out = haven.stdout();
    const link = /Setup link:\s+(\S+)\n/.exec(out)?.[1] ?? '';
    expect(link).toMatch(/^http:\/\/\S+\/#setup=[A-Za-z0-9_-]{43}$/);
    const hint = out.slice(out.indexOf(link) + link.length);
    expect(hint).toMatch(/^\n {2}HAVEN_BEHIND_TLS is true: open it through the triage site's HTTPS address instead: replace\n/);
    expect(hint).toContain(`replace\n  ${haven.triageUrl} with https://<triage host>/ and keep the #setup=... part.\n`);
    // The one-time token stays on the console once.
    expect(out.split(link.split('#setup=')[1]!).length - 1).toBe(1);
  });

  it('refuses a second process on the same data directory with a clear message', { timeout: 120_000 }, async () => {
    const dataDir = tempDataDir();
    const first = await startHaven({ HAVEN_DATA_DIR: dataDir });
    running.push(first);
    const second = runScript('api/main.ts', { HAVEN_DATA_DIR: dataDir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0' });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/data directory .* is in use by another Haven process \(pid \d+\)/);
    // The first one is unharmed.
    expect((await fetch(new URL('/api/v1/health', first.requesterUrl))).status).toBe(200);
  });

  it('takes over a lock left by a process that was killed', { timeout: 120_000 }, async () => {
    const dataDir = tempDataDir();
    const first = await startHaven({ HAVEN_DATA_DIR: dataDir });
    first.child.kill('SIGKILL');
    await first.exited;
    expect(fs.existsSync(path.join(dataDir, 'haven.lock'))).toBe(true);
    const second = await startHaven({ HAVEN_DATA_DIR: dataDir });
    running.push(second);
    expect((await fetch(new URL('/api/v1/health', second.requesterUrl))).status).toBe(200);
  });

  it('prints one line per bad setting and exits 2 without starting', { timeout: 60_000 }, async () => {
    const run = runScript('api/main.ts', {
      HAVEN_DATA_DIR: tempDataDir(),
      HAVEN_REQUESTER_PORT: 'eighty',
      HAVEN_LOG_LEVEL: 'loud',
    });
    expect(await run.exited).toBe(2);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^haven: HAVEN_REQUESTER_PORT: must be a whole number/);
    expect(lines[1]).toMatch(/^haven: HAVEN_LOG_LEVEL: must be one of/);
    expect(run.stdout()).not.toContain('running');
  });
});
