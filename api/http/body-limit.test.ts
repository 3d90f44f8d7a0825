import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { bodyLimit } from './body-limit.ts';

function app() {
  const a = new Hono();
  a.onError(errorHandler(createLogger('silent')));
  a.use('*', bodyLimit(100));
  a.post('/echo', async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
  return a;
}

function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(Math.min(30, total - sent)));
      sent += 30;
    },
  });
}

describe('body limit', () => {
  it('passes a body within the limit and refuses a larger one by its Content-Length', async () => {
    expect(await (await app().request('/echo', { method: 'POST', body: 'x'.repeat(100) })).text()).toBe('100');
    const res = await app().request('/echo', { method: 'POST', body: 'x'.repeat(101) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('counts a chunked body as it streams', async () => {
    const ok = await app().request('/echo', { method: 'POST', body: chunked(90), duplex: 'half' } as RequestInit);
    expect(await ok.text()).toBe('90');
    const big = await app().request('/echo', { method: 'POST', body: chunked(300), duplex: 'half' } as RequestInit);
    expect(big.status).toBe(413);
  });

  it('refuses a malformed Content-Length as a client error', async () => {
    const res = await app().request('/echo', { method: 'POST', headers: { 'content-length': '12abc' }, body: 'x' });
    expect(res.status).toBeLessThan(500);
  });

  it('lets only a few bodies above the limit in at once (raised paths only), refusing the rest before reading them', async () => {
    const a = new Hono();
    a.onError(errorHandler(createLogger('silent')));
    a.use('*', bodyLimit(100, { '/upload': 1000 }, 1));
    let reads = 0;
    a.post('/upload', async (c) => {
      reads++;
      return c.text(String((await c.req.arrayBuffer()).byteLength));
    });
    a.post('/echo', async (c) => c.text(String((await c.req.arrayBuffer()).byteLength)));
    // The first large upload takes the one slot and stalls mid-body.
    let release!: () => void;
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(300));
        release = () => {
          controller.enqueue(new Uint8Array(200));
          controller.close();
        };
      },
    });
    const first = a.request('/upload', { method: 'POST', headers: { 'content-length': '500' }, body: stalled, duplex: 'half' } as RequestInit);
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(1);
    // A second large one is refused with 503 and Retry-After, and its handler never runs.
    const second = await a.request('/upload', { method: 'POST', headers: { 'content-length': '500' }, body: 'x'.repeat(500) });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(await second.json()).toMatchObject({ error: { code: 'unavailable' } });
    expect(reads).toBe(1);
    // Small bodies on the same path, and other paths, do not need a slot.
    expect(await (await a.request('/upload', { method: 'POST', headers: { 'content-length': '50' }, body: 'x'.repeat(50) })).text()).toBe('50');
    expect(await (await a.request('/echo', { method: 'POST', headers: { 'content-length': '50' }, body: 'x'.repeat(50) })).text()).toBe('50');
    // Over the raised limit, or a large body elsewhere, is 413 as before.
    expect((await a.request('/upload', { method: 'POST', headers: { 'content-length': '1001' }, body: 'x'.repeat(1001) })).status).toBe(413);
    expect((await a.request('/echo', { method: 'POST', headers: { 'content-length': '101' }, body: 'x'.repeat(101) })).status).toBe(413);
    // A chunked body (no length up front) on the raised path keeps the ordinary limit.
    expect((await a.request('/upload', { method: 'POST', body: chunked(300), duplex: 'half' } as RequestInit)).status).toBe(413);
    // Once the first finishes, its slot is free again.
    release();
    expect(await (await first).text()).toBe('500');
    expect(await (await a.request('/upload', { method: 'POST', headers: { 'content-length': '600' }, body: 'x'.repeat(600) })).text()).toBe('600');
  });
});
