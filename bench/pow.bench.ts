/**
 * Proof-of-work solve time on the requester page as Tor Browser's Safer level runs it:
 * Debian's Chromium with `--js-flags=--jitless` (no JIT; V8 then has no WebAssembly either),
 * the shipped worker (dist/, so `npm run build` first) solving real challenges from a live
 * server at the default difficulty (HAVEN_POW_DIFFICULTY's default).
 *
 * Every solution is checked with node:crypto's SHA-256 and the run is refused (no figure
 * printed) if one does not verify, if WebAssembly is present in the page (not the Safer-level
 * setting), or if the worker did not use WebCrypto.
 *
 * Run: `npm run bench -- pow` (POW_BENCH_SOLVES, default 31).
 */
import { loadConfig } from '../api/config.ts';
import { nodeSha256 } from '../api/intake/pow.service.ts';
import { base64urlDecode } from '../crypto/encoding.ts';
import { checkPowSolutionV2 } from '../crypto/v2/pow.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';

const SOLVES = Number(process.env.POW_BENCH_SOLVES ?? 31);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function run(): Promise<string> {
  const difficulty = loadConfig({}).powBaseDifficulty;
  const live = await startLiveServer({ HAVEN_POW_DIFFICULTY: String(difficulty) });
  const browser = await launchBrowser({ disableWasm: true });
  try {
    const site = live.server.sites.get('requester');
    const workerUrl = [...site.files.keys()].find((u) => u.includes('pow-worker'));
    if (!workerUrl) throw new Error('no pow-worker in dist/: run `npm run build` first');
    const page = await browser.newPage();
    await page.goto(live.server.requesterUrl);
    if ((await page.evaluate(() => typeof WebAssembly)) !== 'undefined') throw new Error('invalid run: WebAssembly is on (not jitless)');

    const times: number[] = [];
    for (let i = 0; i < SOLVES; i++) {
      const offer = (await (await fetch(new URL('/api/v1/pow/challenge', live.server.requesterUrl))).json()) as { challenge: string; effort: number };
      if (offer.effort !== difficulty) throw new Error(`invalid run: the server asked for ${offer.effort}, not the default ${difficulty}`);
      const challenge = base64urlDecode(offer.challenge);
      const result = await page.evaluate(
        ({ url, challenge, effort }) =>
          new Promise<{ ms: number; nonce: number[]; effort: number; webCrypto: boolean }>((resolve, reject) => {
            const started = performance.now();
            const worker = new Worker(url);
            worker.onmessage = (e: MessageEvent<{ nonce?: Uint8Array; effort?: number; webCrypto?: boolean; error?: true }>) => {
              if (e.data.error) reject(new Error('worker failed'));
              if (!e.data.nonce) return;
              const ms = performance.now() - started;
              worker.terminate();
              resolve({ ms, nonce: [...e.data.nonce], effort: e.data.effort!, webCrypto: e.data.webCrypto === true });
            };
            worker.postMessage({ challenge: new Uint8Array(challenge), effort });
          }),
        { url: workerUrl, challenge: [...challenge], effort: difficulty },
      );
      if (!result.webCrypto) throw new Error('invalid run: the worker fell back to pure-JS SHA-256');
      if (!checkPowSolutionV2(nodeSha256, challenge, { effort: result.effort, nonce: new Uint8Array(result.nonce) })) {
        throw new Error('invalid run: a solution does not verify');
      }
      times.push(result.ms);
    }

    // The hash rate the worker reaches, measured apart from the solves (2^difficulty expected each).
    const rate = await page.evaluate(async () => {
      const started = performance.now();
      let n = 0;
      while (performance.now() - started < 3000) {
        const batch: Promise<ArrayBuffer>[] = [];
        for (let i = 0; i < 256; i++) {
          const input = new Uint8Array(37);
          input[36] = i;
          batch.push(crypto.subtle.digest('SHA-256', input));
        }
        await Promise.all(batch);
        n += 256;
      }
      return n / ((performance.now() - started) / 1000);
    });

    const sorted = [...times].sort((a, b) => a - b);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const median = quantile(sorted, 0.5);
    return [
      `Chromium ${browser.version()} with --js-flags=--jitless (WebAssembly off), the shipped pow-worker, WebCrypto SHA-256.`,
      `Difficulty ${difficulty} (default), ${SOLVES} real challenges, each solution verified with node:crypto.`,
      '',
      '| median | mean | p90 | fastest | slowest | WebCrypto SHA-256 (page, 256 per batch) |',
      '|---|---|---|---|---|---|',
      `| ${s(median)} | ${s(mean)} | ${s(quantile(sorted, 0.9))} | ${s(sorted[0]!)} | ${s(sorted.at(-1)!)} | ${Math.round(rate).toLocaleString('en')} hashes/s |`,
      '',
      `Goal: median at most 2 s: ${median <= 2000 ? 'met' : 'NOT met'}.`,
    ].join('\n');
  } finally {
    await browser.close();
    await live.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
