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
});
