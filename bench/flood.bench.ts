/**
 * A proof-of-work flood beside an honest person: FLOOD_ATTACKERS processes
 * (bench/flood-attacker.ts) solve with native SHA-256 (node:crypto) as fast as this machine
 * lets them and submit valid requests in a loop, while the real requester page, in Chromium
 * with the JIT and WebAssembly off (Tor Browser's Safer level), sends requests one after
 * another through its form. Reports the honest attempts accepted within 60 s and their time
 * to success.
 *
 * The intake is given a small capacity (FLOOD_CAPACITY admissions a second,
 * HAVEN_INTAKE_PER_SECOND) so that the flooders' native hash rate saturates it many times
 * over: a scale model of a flooder with far more hardware against a full-size intake. What
 * decides the outcome is the ratio of the flooders' hash rate to the intake's capacity (the
 * effort they can sustain while keeping it full is log2(rate / capacity)), not the absolute
 * sizes; PROTOCOL.md 15.3 has the reasoning.
 *
 * The run is refused (no figure printed) unless the intake was saturated: the flooders must
 * have offered at least twice the capacity, been turned away (proof_outranked /
 * proof_too_weak) at least 10 times, and the suggested effort must have been above the floor
 * in at least half of the once-a-second samples of the honest phase.
 *
 * Needs dist/ (`npm run build`). Run: `npm run bench -- flood`
 * (FLOOD_ATTEMPTS default 20, FLOOD_ATTACKERS 2, FLOOD_CAPACITY 1, FLOOD_FLOOR 12, FLOOD_WARMUP_SECONDS 15).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../api/config.ts';
import { base64urlEncode } from '../crypto/encoding.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';

const ATTEMPTS = Number(process.env.FLOOD_ATTEMPTS ?? 20);
const ATTACKERS = Number(process.env.FLOOD_ATTACKERS ?? 2);
const CAPACITY = Number(process.env.FLOOD_CAPACITY ?? 1);
const WARMUP_SECONDS = Number(process.env.FLOOD_WARMUP_SECONDS ?? 15);
/**
 * The floor for this run (below the default 16): the flooders get only a share of a shared
 * 2-core machine, and must be able to saturate the intake. Under saturation the bar is set by
 * the flood (log2 of its hash rate over the capacity), not by the floor.
 */
const FLOOR = Number(process.env.FLOOD_FLOOR ?? 12);
/** The goal's window: an attempt counts as accepted only within it. */
const WINDOW_MS = 60_000;
/** How long one honest attempt may take before it counts as failed (the page keeps trying until then). */
const ATTEMPT_LIMIT_MS = 180_000;

interface AttackerReport {
  counts: Record<string, number>;
  hashes: number;
  hashesPerSecond: number;
  medianEffort: number;
  maxEffort: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function honestAttempt(browser: Browser, url: string): Promise<{ ok: boolean; ms: number; sends: string[] }> {
  const context = await browser.newContext({ locale: 'en-GB' });
  try {
    const page = await context.newPage();
    const sends: string[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/requests') sends.push(String(r.status()));
    });
    await page.goto(url);
    await page.getByRole('radio', { name: 'Legal help' }).check();
    await page.locator('#message').fill('I need help');
    const started = Date.now();
    await page.locator('#send').click();
    const outcome = await Promise.race([
      page.locator('#sent').waitFor({ state: 'visible', timeout: ATTEMPT_LIMIT_MS }).then(() => true),
      page.locator('#compose-status.error').waitFor({ state: 'visible', timeout: ATTEMPT_LIMIT_MS }).then(() => false),
    ]).catch(() => false);
    return { ok: outcome, ms: Date.now() - started, sends };
  } finally {
    await context.close();
  }
}

export async function run(): Promise<string> {
  const floor = FLOOR;
  const ceiling = loadConfig({}).powMaxDifficulty;
  const live = await startLiveServer({
    HAVEN_POW_DIFFICULTY: String(floor),
    HAVEN_INTAKE_PER_SECOND: String(CAPACITY),
    HAVEN_INTAKE_QUEUE: '32',
    HAVEN_INTAKE_QUEUE_WAIT_SECONDS: '10',
    HAVEN_LOG_LEVEL: 'warn',
  });
  const team = live.demo.teams[0]!;
  const target = JSON.stringify({
    orgId: base64urlEncode(live.demo.organisationId), teamId: base64urlEncode(team.id), epoch: team.epoch, teamPublic: base64urlEncode(team.publicKey),
  });
  const attackerFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'flood-attacker.ts');
  const children: ChildProcess[] = [];
  const reports: Promise<AttackerReport | null>[] = [];
  let browser: Browser | undefined;
  try {
    for (let i = 0; i < ATTACKERS; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', attackerFile], {
        env: { ...process.env, FLOOD_URL: live.server.requesterUrl, FLOOD_SECONDS: String(WARMUP_SECONDS + (ATTEMPTS * ATTEMPT_LIMIT_MS) / 1000), FLOOD_TARGET: target },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      reports.push(
        new Promise((resolve) => {
          let out = '';
          child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
          child.on('exit', () => {
            try {
              resolve(JSON.parse(out.trim().split('\n').at(-1)!) as AttackerReport);
            } catch {
              resolve(null);
            }
          });
        }),
      );
    }
    browser = await launchBrowser({ disableWasm: true });
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));

    // Samples of what the intake offers, once a second, during the honest phase.
    const offers: { difficulty: number; effort: number }[] = [];
    const sampler = setInterval(() => {
      fetch(new URL('/api/v1/pow/challenge', live.server.requesterUrl))
        .then(async (r) => offers.push((await r.json()) as { difficulty: number; effort: number }))
        .catch(() => undefined);
    }, 1000);

    const honestStarted = Date.now();
    const attempts: { ok: boolean; ms: number; sends: string[] }[] = [];
    try {
      for (let i = 0; i < ATTEMPTS; i++) {
        attempts.push(await honestAttempt(browser, live.server.requesterUrl));
        const a = attempts.at(-1)!;
        process.stderr.write(`[flood] honest attempt ${i + 1}/${ATTEMPTS}: ${a.ok ? 'accepted' : 'FAILED'} in ${(a.ms / 1000).toFixed(1)} s (sends: ${a.sends.join(' ')})\n`);
      }
    } finally {
      clearInterval(sampler);
    }
    const honestSeconds = (Date.now() - honestStarted) / 1000;

    for (const child of children) child.kill('SIGTERM');
    const killer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 60_000);
    const done = await Promise.all(reports);
    clearTimeout(killer);
    if (done.some((r) => r === null)) throw new Error('invalid run: an attacker did not report');
    const attackers = done as AttackerReport[];

    const sum = (code: string) => attackers.reduce((n, a) => n + (a.counts[code] ?? 0), 0);
    const floodSeconds = WARMUP_SECONDS + honestSeconds;
    const offered = attackers.reduce((n, a) => n + Object.values(a.counts).reduce((x, y) => x + y, 0), 0);
    const turnedAway = sum('proof_outranked') + sum('proof_too_weak');
    const saturatedSamples = offers.filter((o) => o.effort > floor).length;
    const diagnosis = `offered ${(offered / floodSeconds).toFixed(1)}/s at ${Math.round(attackers.reduce((n, a) => n + a.hashesPerSecond, 0))} hashes/s, ${turnedAway} turned away, ${saturatedSamples} of ${offers.length} samples above the floor`;
    if (offered / floodSeconds < 2 * CAPACITY) throw new Error(`invalid run: the flood did not offer twice the capacity ${CAPACITY}/s (${diagnosis})`);
    if (turnedAway < 10 || saturatedSamples < offers.length / 2) throw new Error(`invalid run: the intake was not kept saturated (${diagnosis})`);

    const okTimes = attempts.filter((a) => a.ok).map((a) => a.ms).sort((a, b) => a - b);
    const within = attempts.filter((a) => a.ok && a.ms <= WINDOW_MS).length;
    const share = within / attempts.length;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const rate = attackers.reduce((n, a) => n + a.hashesPerSecond, 0);
    const efforts = offers.map((o) => o.effort).sort((a, b) => a - b);
    const tries = attempts.map((a) => a.sends.length).sort((a, b) => a - b);
    return [
      `Flooders: ${ATTACKERS} processes x 32 submission loops (half at the required minimum, half raising their effort after each refusal), native SHA-256 (node:crypto), together ${Math.round(rate).toLocaleString('en')} hashes/s while solving;`,
      `they offered ${(offered / floodSeconds).toFixed(1)} valid submissions/s against an intake capacity of ${CAPACITY}/s (queue 32, 10 s wait), floor difficulty ${floor}, ceiling ${ceiling}.`,
      `Flooder answers: ${sum('stored')} stored, ${sum('proof_outranked')} proof_outranked, ${sum('proof_too_weak')} proof_too_weak, ${sum('proof_expired')} proof_expired, ${sum('network')} network errors; their efforts: median ${quantile(attackers.map((a) => a.medianEffort).sort(), 0.5)}, highest ${Math.max(...attackers.map((a) => a.maxEffort))}.`,
      `Suggested effort sampled each second of the honest phase: median ${quantile(efforts, 0.5)}, highest ${efforts.at(-1)}; above the floor in ${saturatedSamples} of ${offers.length} samples.`,
      `Honest client: the requester page in Chromium with --js-flags=--jitless (WebAssembly off), ${ATTEMPTS} requests one after another over ${s(honestSeconds * 1000)}.`,
      '',
      '| honest attempts | accepted | accepted within 60 s | median time to success | p95 time to success | slowest | sends per attempt (median, max) |',
      '|---|---|---|---|---|---|---|',
      `| ${attempts.length} | ${okTimes.length} | ${within} (${(share * 100).toFixed(0)}%) | ${s(quantile(okTimes, 0.5))} | ${s(quantile(okTimes, 0.95))} | ${s(okTimes.at(-1) ?? NaN)} | ${quantile(tries, 0.5)}, ${tries.at(-1)} |`,
      '',
      `Goal: at least 95% of honest attempts accepted within 60 s while the flood saturates the intake: ${share >= 0.95 ? 'met' : 'NOT met'}.`,
    ].join('\n');
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await browser?.close();
    await live.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
