/**
 * Requester page weight: what a person on a cheap phone or over Tor must download before
 * they can write. Loads the page in headless Chromium (Debian's) against a live server and
 * sums the bytes on the wire per resource until the form is usable (teams verified and
 * listed), then what sending adds (the proof-of-work worker and the chosen language's word
 * list, fetched only then), and reports raw and gzip sizes per asset.
 *
 * Goal (issue 12): usable at 60 KB gzipped or less. The figure is refused (the run fails)
 * when the page did not become usable, a request failed, or a word list was fetched before
 * sending: then it would not measure what a person downloads before they can write.
 *
 * Run: `npm run bench -- requester-page`; it serves the build in dist/, so `npm run build` first.
 */
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';

const GOAL_BYTES = 60 * 1024;

const label = (url: string) => url.replace(/-[0-9a-f]{12}\./, '-HASH.');

export async function run(): Promise<string> {
  const live = await startLiveServer();
  const site = live.server.sites.get('requester');
  const lines = ['| asset | raw bytes | gzip bytes |', '|---|---|---|'];
  for (const [url, file] of site.files) lines.push(`| ${label(url)} | ${file.body.length} | ${file.gzip.length} |`);

  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    const seen: { url: string; bytes: number; status: number }[] = [];
    const pending: Promise<void>[] = [];
    page.on('requestfinished', (request) => {
      pending.push(
        (async () => {
          const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
          seen.push({ url: new URL(request.url()).pathname, bytes: sizes.responseBodySize + sizes.responseHeadersSize, status: response?.status() ?? 0 });
        })(),
      );
    });
    await page.goto(live.server.requesterUrl, { waitUntil: 'networkidle' });
    await page.getByRole('radio', { name: 'Legal help' }).waitFor({ timeout: 30_000 });
    await Promise.all(pending);
    const usable = [...seen];
    const usableBytes = usable.reduce((sum, r) => sum + r.bytes, 0);
    if (usable.some((r) => r.status >= 400)) throw new Error(`invalid run: a request failed before the page was usable (${usable.filter((r) => r.status >= 400).map((r) => r.url).join(', ')})`);
    if (usable.some((r) => r.url.includes('/words-'))) throw new Error('invalid run: a word list was fetched before sending');

    // Sending: the worker and the English word list load then (the proof runs at the test difficulty).
    await page.getByRole('radio', { name: 'Legal help' }).check();
    await page.locator('#message').fill('benchmark');
    await page.locator('#send').click();
    await page.locator('#sent').waitFor({ state: 'visible', timeout: 120_000 });
    await Promise.all(pending);
    const onSend = seen.slice(usable.length).filter((r) => r.url.startsWith('/assets/'));
    if (onSend.filter((r) => r.url.includes('/words-')).length !== 1) throw new Error('invalid run: sending did not fetch exactly one word list');

    lines.push(
      '',
      `Transferred until the form is usable (headers included, gzip): **${usableBytes} bytes** (${(usableBytes / 1024).toFixed(1)} KiB; goal ${GOAL_BYTES / 1024} KiB: ${usableBytes <= GOAL_BYTES ? 'met' : 'NOT met'}) over ${usable.length} requests:`,
    );
    for (const r of usable) lines.push(`- ${label(r.url)}: ${r.bytes}`);
    // Gzip body sizes from the served files: Chromium does not report a worker's own fetch in
    // full through the page's per-request sizes.
    const gz = (url: string) => site.files.get(url)?.gzip.length ?? 0;
    const sendBytes = onSend.reduce((sum, r) => sum + gz(r.url), 0);
    lines.push('', `Added when sending (gzip bodies of the assets fetched then): **${sendBytes} bytes**:`);
    for (const r of onSend) lines.push(`- ${label(r.url)}: ${gz(r.url)}`);
  } finally {
    await browser.close();
    await live.stop();
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
