/**
 * The image-metadata stripper in Chromium with the JIT and WebAssembly off (Tor Browser's
 * Safer level): it gives the same bytes as in Node, and the stripped JPEG and PNG still
 * decode to the right pixels with createImageBitmap, so stripping cannot have broken them.
 */
import fs from 'node:fs';
import { transform } from 'esbuild';
import { expect, it } from 'vitest';
import { JPEG_CLEAN, JPEG_WITH_METADATA, PNG_CLEAN, PNG_WITH_METADATA } from '../web/shared/image-metadata.fixtures.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';

describeWithBrowser('[image metadata] Chromium with the JIT and WebAssembly off', () => {
  it('strips to the same bytes as Node, and the stripped JPEG and PNG still decode to the right pixels', async () => {
    // The module as the page will get it: transpiled on its own, no bundler help, no imports.
    const source = fs.readFileSync(new URL('../web/shared/image-metadata.ts', import.meta.url), 'utf8');
    const { code } = await transform(source, { loader: 'ts', format: 'iife', globalName: 'HavenImageMetadata', target: 'es2020' });
    const browser = await launchBrowser({ disableWasm: true });
    try {
      const page = await browser.newPage();
      await page.goto('about:blank');
      await page.addScriptTag({ content: code });
      const results = await page.evaluate(
        async ({ jpeg, png }) => {
          const api = (globalThis as unknown as { HavenImageMetadata: typeof import('../web/shared/image-metadata.ts') }).HavenImageMetadata;
          const wasm = typeof WebAssembly !== 'undefined';
          const decode = async (bytes: Uint8Array) => {
            const type = api.detectImageType(bytes)!;
            const out = api.stripImageMetadata(bytes, type);
            const bitmap = await createImageBitmap(new Blob([out], { type }));
            const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
            const context = canvas.getContext('2d')!;
            context.drawImage(bitmap, 0, 0);
            const pixels = Array.from(context.getImageData(0, 0, bitmap.width, bitmap.height).data);
            let refused = '';
            try {
              api.stripImageMetadata(out.subarray(0, out.length - 1), type);
            } catch (e) {
              refused = e instanceof api.ImageMetadataError ? e.code : 'other';
            }
            return { out: Array.from(out), width: bitmap.width, height: bitmap.height, pixels, refused };
          };
          return { wasm, jpeg: await decode(new Uint8Array(jpeg)), png: await decode(new Uint8Array(png)) };
        },
        { jpeg: Array.from(JPEG_WITH_METADATA), png: Array.from(PNG_WITH_METADATA) },
      );
      expect(results.wasm).toBe(false); // really the no-WebAssembly, no-JIT setting
      expect(Uint8Array.from(results.jpeg.out)).toEqual(JPEG_CLEAN);
      expect(Uint8Array.from(results.png.out)).toEqual(PNG_CLEAN);
      expect(results.jpeg.refused).toBe('malformed_image');
      expect(results.png.refused).toBe('malformed_image');
      // 8x8 grey block with DC 0: every pixel mid-grey, opaque.
      expect([results.jpeg.width, results.jpeg.height]).toEqual([8, 8]);
      for (let i = 0; i < 64; i++) {
        expect(Math.abs(results.jpeg.pixels[i * 4]! - 128)).toBeLessThanOrEqual(1);
        expect(results.jpeg.pixels[i * 4 + 3]).toBe(255);
      }
      // 2x2: red, green / blue, white made transparent by the kept tRNS (reads back as 0,0,0,0).
      expect([results.png.width, results.png.height]).toEqual([2, 2]);
      expect(results.png.pixels).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
