/**
 * Requester page weight: what a person on a cheap phone or over Tor must download before
 * they can write. Loads the page in headless Chromium (Debian's) against a live server and
 * sums the bytes on the wire per resource, and also reports raw and gzip sizes per asset.
 *
 * Run: `node --import tsx bench/requester-page.bench.ts` (also part of `npm run bench`); it
 * serves the build in dist/, so `npm run build` first.
 */
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';

export async function run(): Promise<string> {
  const live = await startLiveServer();
  const site = live.server.sites.get('requester');
  const lines = ['| asset | raw bytes | gzip bytes |', '|---|---|---|'];
  for (const [url, file] of site.files) {
    lines.push(`| ${url.replace(/-[0-9a-f]{12}\./, '-HASH.')} | ${file.body.length} | ${file.gzip.length} |`);
  }

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const seen: { url: string; bytes: number }[] = [];
    page.on('requestfinished', (request) => {
      void request.sizes().then((s) => seen.push({ url: new URL(request.url()).pathname, bytes: s.responseBodySize + s.responseHeadersSize }));
    });
    await page.goto(live.server.requesterUrl, { waitUntil: 'networkidle' });
    // The proof-of-work worker loads on submit; fetch it the way the page would to count it.
    const workerUrl = [...site.files.keys()].find((u) => u.includes('pow-worker'))!;
    await page.evaluate(async (u) => void (await fetch(u)).arrayBuffer(), workerUrl);
    await page.waitForTimeout(300);
    const total = seen.reduce((sum, r) => sum + r.bytes, 0);
    lines.push('', `Transferred when the page loads and the worker is fetched (headers included, gzip): **${total} bytes** over ${seen.length} requests:`);
    for (const r of seen) lines.push(`- ${r.url.replace(/-[0-9a-f]{12}\./, '-HASH.')}: ${r.bytes}`);
  } finally {
    await browser.close();
    await live.stop();
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
