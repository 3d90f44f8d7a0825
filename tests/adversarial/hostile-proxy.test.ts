/**
 * The hostile proxy the adversarial suites stand on: it must forward faithfully when told
 * nothing, and rewrite exactly what a test tells it to, or every adversarial test built on
 * it would prove nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteJson, startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.ts';

let origin: http.Server;
let proxy: HostileProxy;

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=1; HttpOnly' });
      res.end(JSON.stringify({ path: req.url, host: req.headers.host, body: Buffer.concat(chunks).toString('utf8'), key: 'genuine' }));
    });
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  proxy = await startHostileProxy(`http://127.0.0.1:${(origin.address() as AddressInfo).port}/`);
});

afterAll(async () => {
  await proxy.stop();
  await new Promise((resolve) => origin.close(resolve));
});

describe('hostile proxy', () => {
  it('forwards path, body, Host and cookies unchanged when told nothing', async () => {
    const res = await fetch(new URL('/api/x?y=1', proxy.url), { method: 'POST', body: 'hello' });
    const json = (await res.json()) as Record<string, string>;
    expect(json).toEqual({ path: '/api/x?y=1', host: new URL(proxy.url).host, body: 'hello', key: 'genuine' });
    expect(res.headers.get('set-cookie')).toBe('a=1; HttpOnly');
  });

  it('rewrites the answers and requests it is told to, and no others', async () => {
    proxy.rewriteAnswers((ex) => (ex.url.startsWith('/swap') ? rewriteJson<{ key: string }>(ex, (j) => ({ ...j, key: 'forged' })) : undefined));
    proxy.rewriteRequests((_m, url, body) => (url.startsWith('/swap') ? Buffer.from(body.toString('utf8').toUpperCase()) : undefined));
    try {
      const swapped = (await (await fetch(new URL('/swap', proxy.url), { method: 'POST', body: 'abc' })).json()) as Record<string, string>;
      expect(swapped.key).toBe('forged');
      expect(swapped.body).toBe('ABC');
      const untouched = (await (await fetch(new URL('/other', proxy.url), { method: 'POST', body: 'abc' })).json()) as Record<string, string>;
      expect(untouched.key).toBe('genuine');
      expect(untouched.body).toBe('abc');
    } finally {
      proxy.rewriteAnswers(null);
      proxy.rewriteRequests(null);
    }
  });
});
