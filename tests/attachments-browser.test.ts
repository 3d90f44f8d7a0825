/**
 * Attachments end to end in Chromium (issue 13): a requester attaches a JPEG and a PNG that
 * carry GPS, Exif, XMP, ICC and text metadata, and a PDF, on the real page, once with
 * WebAssembly on and once with the JIT and WebAssembly off (Tor Browser's Safer level; the
 * page's pure-JS backend either way). A responder opens the thread in the dashboard, downloads
 * and decrypts each file in the browser (libsodium), and the test reads the saved bytes: the
 * images are exactly what stripImageMetadata makes of them (no metadata, the pixels' bytes
 * untouched), the PDF is unchanged. Limits and a disguised file are refused on the page with
 * nothing sent; a hostile server's tampered, truncated, reordered or swapped blob is refused
 * by the dashboard with a readable error and nothing saved.
 */
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { JPEG_SECRETS, JPEG_WITH_METADATA, PNG_SECRETS, PNG_WITH_METADATA } from '../web/shared/image-metadata.fixtures.ts';
import { stripImageMetadata } from '../web/shared/image-metadata.ts';
import { ATTACHMENT_CHUNK_CT_BYTES, ATTACHMENT_HEADER_BYTES } from '../crypto/v2/attachment-limits.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { dashboardLogin } from './helpers/dashboard.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const PASS = 'attachments responder passphrase';
const TIMEOUT = 240_000;

/** A PDF of two 64 KiB chunks (so a blob can be reordered), with the metadata a PDF keeps. */
const PDF = new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Author (PDF-AUTHOR-STAYS) >> endobj\n${'% filler line for size\n'.repeat(4000)}%%EOF\n`);

function textOf(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes);
}

async function bytesOf(download: Download): Promise<Uint8Array> {
  const stream = await download.createReadStream();
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

describeWithBrowser('[attachments] requester page to dashboard', () => {
  let live: LiveServer;
  let browsers: { wasm: Browser; noWasm: Browser };

  beforeAll(async () => {
    live = await startLiveServer();
    browsers = { wasm: await launchBrowser(), noWasm: await launchBrowser({ disableWasm: true }) };
    const creds = await makeCredentials(p, 'files.responder', PASS);
    const id = await insertAccountDirectly(live.server.database.db, p, creds, 'responder');
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    await approveAccount(live.server.database.db, p, live.demo, id, [legal.id]);
  }, TIMEOUT);

  afterAll(async () => {
    await browsers?.wasm.close();
    await browsers?.noWasm.close();
    await live?.stop();
  });

  const requestCount = async () => Number((await sql<{ n: number }>`select count(*)::int as n from requests`.execute(live.server.database.db)).rows[0]!.n);

  async function compose(page: Page, text: string, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
    await page.goto(live.server.requesterUrl);
    await page.getByRole('radio', { name: 'Legal help' }).check();
    await page.locator('#message').fill(text);
    await page.locator('#files').setInputFiles(files);
    await page.locator('#send').click();
  }

  const photos = () => [
    { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(JPEG_WITH_METADATA) },
    { name: 'screen.png', mimeType: 'image/png', buffer: Buffer.from(PNG_WITH_METADATA) },
    { name: 'summons.pdf', mimeType: 'application/pdf', buffer: Buffer.from(PDF) },
  ];

  async function openInDashboard(page: Page, text: string): Promise<void> {
    await dashboardLogin(page, live.server.triageUrl, 'files.responder', PASS);
    const row = page.locator('#rows button.row', { hasText: text });
    await expect.poll(() => row.count(), { timeout: 60_000 }).toBe(1);
    await row.click();
    await page.locator('#attachments button').first().waitFor({ timeout: 60_000 });
  }

  /** Sends the photos from the requester page in `mode`, then opens the thread in the dashboard (WebAssembly on). */
  async function sendThenOpen(mode: 'wasm' | 'noWasm', marker: string): Promise<{ context: BrowserContext; page: Page }> {
    const requesterContext = await browsers[mode].newContext({ locale: 'en-GB' });
    const requester = await requesterContext.newPage();
    if (mode === 'noWasm') {
      await requester.goto(live.server.requesterUrl);
      expect(await requester.evaluate(() => typeof WebAssembly)).toBe('undefined');
    }
    await compose(requester, marker, photos());
    await requester.locator('#sent').waitFor({ state: 'visible', timeout: 180_000 });
    await requesterContext.close();
    const context = await browsers.wasm.newContext({ locale: 'en-GB', acceptDownloads: true });
    const page = await context.newPage();
    await openInDashboard(page, marker);
    return { context, page };
  }

  async function save(page: Page, index: number): Promise<{ name: string; bytes: Uint8Array }> {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator('#attachments button').nth(index).click()]);
    return { name: download.suggestedFilename(), bytes: await bytesOf(download) };
  }

  for (const mode of ['wasm', 'noWasm'] as const) {
    it(`[attachments] ${mode === 'wasm' ? 'WebAssembly on' : 'JIT and WebAssembly off'}: photos arrive stripped, pixels intact, the PDF unchanged`, async () => {
      const marker = `ATTACH-${mode}-please-see-files`;
      const { context, page } = await sendThenOpen(mode, marker);
      const listed = (await page.locator('#attachments').textContent()) ?? '';
      expect(listed).toContain('photo.jpg');
      expect(listed).toContain('summons.pdf');

      const jpeg = await save(page, 0);
      expect(jpeg.name).toBe('photo.jpg');
      // Exactly the stripper's output: the metadata gone, every kept byte (tables, pixels' scan) the same.
      expect(jpeg.bytes).toEqual(stripImageMetadata(JPEG_WITH_METADATA, 'image/jpeg'));
      for (const secret of JPEG_SECRETS) expect(textOf(jpeg.bytes)).not.toContain(secret);
      expect(textOf(jpeg.bytes)).not.toContain('Exif');

      const png = await save(page, 1);
      expect(png.name).toBe('screen.png');
      expect(png.bytes).toEqual(stripImageMetadata(PNG_WITH_METADATA, 'image/png'));
      for (const secret of PNG_SECRETS) expect(textOf(png.bytes)).not.toContain(secret);

      const pdf = await save(page, 2);
      expect(pdf.name).toBe('summons.pdf');
      // PDFs are not stripped (the page says so): the same bytes, metadata included.
      expect(pdf.bytes).toEqual(PDF);
      await context.close();
    }, TIMEOUT);
  }

  it('[attachments] the page refuses too many files and a file that is not what its name says, with nothing sent', async () => {
    const context = await browsers.noWasm.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const before = await requestCount();
    const five = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}.png`, mimeType: 'image/png', buffer: Buffer.from(PNG_WITH_METADATA) }));
    await compose(page, 'ATTACH-too-many', five);
    await expect.poll(() => page.locator('#compose-status').textContent(), { timeout: 60_000 }).toContain('At most 4 files');
    // An HTML page named as a photo: the bytes decide, and they are not an accepted type.
    await page.locator('#files').setInputFiles([{ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('<html><script>alert(1)</script></html>') }]);
    await page.locator('#send').click();
    await expect.poll(() => page.locator('#compose-status').textContent(), { timeout: 60_000 }).toContain('photo.jpg is not a JPEG or PNG photo');
    // A damaged JPEG is refused, never sent with its metadata.
    await page.locator('#files').setInputFiles([{ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(JPEG_WITH_METADATA.subarray(0, 40)) }]);
    await page.locator('#send').click();
    await expect.poll(() => page.locator('#compose-status').textContent(), { timeout: 60_000 }).toContain('broken.jpg is damaged');
    expect(await page.locator('#message').inputValue()).toBe('ATTACH-too-many');
    expect(await requestCount()).toBe(before);
    await context.close();
  }, TIMEOUT);

  it('[attachments] a hostile server: a tampered, truncated, reordered or swapped blob is refused by the dashboard with a readable error, nothing saved', async () => {
    const marker = 'ATTACH-hostile-server';
    const { context, page } = await sendThenOpen('wasm', marker);
    let downloads = 0;
    page.on('download', () => downloads++);
    // The PNG's genuine blob, to serve in place of the PDF's.
    let pngBlob: Buffer | null = null;
    const chunk = ATTACHMENT_CHUNK_CT_BYTES;
    const attacks: Record<string, (b: Buffer) => Buffer> = {
      tampered: (b) => {
        const c = Buffer.from(b);
        c[ATTACHMENT_HEADER_BYTES + 100]! ^= 0x01;
        return c;
      },
      truncated: (b) => b.subarray(0, b.length - chunk),
      reordered: (b) => Buffer.concat([b.subarray(0, ATTACHMENT_HEADER_BYTES), b.subarray(ATTACHMENT_HEADER_BYTES + chunk), b.subarray(ATTACHMENT_HEADER_BYTES, ATTACHMENT_HEADER_BYTES + chunk)]),
      swapped: () => pngBlob!,
    };
    let attack = '';
    await page.route('**/attachments/**', async (route) => {
      const response = await route.fetch();
      const body = await response.body();
      if (attack === 'record') pngBlob = body;
      await route.fulfill({ response, body: attack in attacks ? attacks[attack]!(body) : body });
    });
    attack = 'record';
    await save(page, 1);
    expect(pngBlob).not.toBeNull();
    const before = downloads;
    for (const name of Object.keys(attacks)) {
      attack = name;
      await page.locator('#alert').evaluate((el) => (el.textContent = ''));
      await page.locator('#attachments button').nth(2).click();
      await expect.poll(() => page.locator('#alert').textContent(), { timeout: 30_000, message: name }).toContain('does not match what the requester sent');
    }
    expect(downloads).toBe(before);
    await context.close();
  }, TIMEOUT);
});
