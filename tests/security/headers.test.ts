/**
 * Every page, asset, API answer and error of both sites carries the privacy and hardening
 * headers; no response sets a cookie except the triage login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../helpers/live-server.ts';

let live: LiveServer;

beforeAll(async () => {
  live = await startLiveServer();
});
afterAll(async () => {
  await live?.stop();
});

async function pathsOf(base: string): Promise<string[]> {
  const manifest = (await (await fetch(new URL('/.well-known/haven-manifest.json', base))).json()) as { files: Record<string, unknown> };
  return [...Object.keys(manifest.files), '/.well-known/haven-manifest.json', '/plain', '/api/v1/health', '/api/v1/does-not-exist', '/nothing-here', '/api/v1/session', '/api/v1/intake', '/api/v1/pow/challenge'];
}

describe.each(['requester', 'triage'] as const)('security headers on the %s site', (site) => {
  it('are on every response, including errors', async () => {
    const base = site === 'requester' ? live.server.requesterUrl : live.server.triageUrl;
    const paths = await pathsOf(base);
    expect(paths.length).toBeGreaterThan(7);
    for (const path of paths) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(new URL(path, base), { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, ...(method === 'POST' ? { body: '{}' } : {}) });
        const h = res.headers;
        const where = `${method} ${path} (${res.status})`;
        expect({ where, status: res.status < 500 }).toEqual({ where, status: true });
        expect({ where, csp: h.get('content-security-policy') }).toEqual({ where, csp: expect.stringContaining("default-src 'none'") });
        const csp = h.get('content-security-policy')!;
        expect({ where, inline: /'unsafe-inline'|'unsafe-eval'/.test(csp) }).toEqual({ where, inline: false });
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).toContain("base-uri 'none'");
        expect({ where, cache: h.get('cache-control') }).toEqual({ where, cache: 'no-store' });
        expect(h.get('referrer-policy')).toBe('no-referrer');
        expect(h.get('x-content-type-options')).toBe('nosniff');
        expect(h.get('x-frame-options')).toBe('DENY');
        expect(h.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
        expect({ where, cookie: h.get('set-cookie') }).toEqual({ where, cookie: null });
        expect(h.get('access-control-allow-origin')).toBeNull();
        expect(h.get('server')).toBeNull();
        expect(h.get('x-powered-by')).toBeNull();
      }
    }
  });
});

it('the requester site runs no WebAssembly; only the triage site may', async () => {
  const requester = (await fetch(live.server.requesterUrl)).headers.get('content-security-policy')!;
  const triage = (await fetch(live.server.triageUrl)).headers.get('content-security-policy')!;
  expect(requester).not.toContain('wasm-unsafe-eval');
  expect(triage).toContain("'wasm-unsafe-eval'");
});

it('announces the onion service on requester pages only, when configured', async () => {
  const onion = `http://${'b'.repeat(56)}.onion`;
  const withOnion = await startLiveServer({ HAVEN_ONION_REQUESTER_URL: onion });
  try {
    expect((await fetch(withOnion.server.requesterUrl)).headers.get('onion-location')).toBe(`${onion}/`);
    expect((await fetch(new URL('/api/v1/health', withOnion.server.requesterUrl))).headers.get('onion-location')).toBeNull();
    expect((await fetch(withOnion.server.triageUrl)).headers.get('onion-location')).toBeNull();
  } finally {
    await withOnion.stop();
  }
  expect((await fetch(live.server.requesterUrl)).headers.get('onion-location')).toBeNull();
  // Starts a second server (migrations, build load): minutes on a loaded CI machine, not 30 s.
}, 120_000);
