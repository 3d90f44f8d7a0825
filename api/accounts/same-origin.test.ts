/**
 * sameOriginOnly behind the deployments docs/deploy/ describes: a TLS proxy (with the port
 * kept or dropped from Host), HAVEN_BEHIND_TLS set or not, and an onion service reached
 * over http. Another site is refused as before; a deployment mismatch is refused with a
 * message naming what to fix, and never repeats the Origin or Host it saw.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { sameOriginOnly } from './account.routes.ts';

const ONION = `${'a'.repeat(56)}.onion`;

function app(behindTls: boolean): Hono {
  const a = new Hono();
  a.onError(errorHandler(createLogger('silent')));
  a.use('*', sameOriginOnly(behindTls));
  a.post('/login', (c) => c.json({ ok: true }));
  a.get('/session', (c) => c.json({ ok: true }));
  return a;
}

async function post(behindTls: boolean, host: string, origin: string, method = 'POST'): Promise<{ status: number; message: string | undefined }> {
  const res = await app(behindTls).request(`http://${host}/${method === 'GET' ? 'session' : 'login'}`, { method, headers: { host, origin } });
  const json = (await res.json()) as { error?: { message: string } };
  return { status: res.status, message: json.error?.message };
}

describe('sameOriginOnly', () => {
  it('accepts the site\'s own origin behind TLS, on the default port and on another one', async () => {
    expect((await post(true, 'triage.example.org', 'https://triage.example.org')).status).toBe(200);
    expect((await post(true, 'triage.example.org:8443', 'https://triage.example.org:8443')).status).toBe(200);
    expect((await post(true, 'Triage.Example.org', 'https://triage.example.org')).status).toBe(200);
    expect((await post(false, '127.0.0.1:8081', 'http://127.0.0.1:8081')).status).toBe(200);
  });

  it('accepts an onion service over http even behind TLS (the documented triage onion service)', async () => {
    expect((await post(true, ONION, `http://${ONION}`)).status).toBe(200);
    expect((await post(true, ONION, `https://${ONION}`)).status).toBe(200);
    expect((await post(false, ONION, `http://${ONION}`)).status).toBe(200);
    expect((await post(true, ONION, `http://${'b'.repeat(56)}.onion`)).message).toBe('Cross-site requests are refused.');
  });

  it('refuses another site as before, and lets a GET through', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost:9999', 'not a url', 'https://triage.example.org.evil.example']) {
      expect(await post(true, 'triage.example.org', origin)).toEqual({ status: 403, message: 'Cross-site requests are refused.' });
    }
    expect((await post(true, 'triage.example.org', 'https://evil.example', 'GET')).status).toBe(200);
  });

  it('names HAVEN_BEHIND_TLS when the scheme is the only difference', async () => {
    const notSet = await post(false, 'triage.example.org', 'https://triage.example.org');
    expect(notSet.status).toBe(403);
    expect(notSet.message).toContain('HAVEN_BEHIND_TLS is false');
    expect(notSet.message).toContain('set HAVEN_BEHIND_TLS=true');
    const plain = await post(true, 'triage.example.org', 'http://triage.example.org');
    expect(plain.status).toBe(403);
    expect(plain.message).toContain('HAVEN_BEHIND_TLS is true');
  });

  it('names the proxy\'s Host header when the port is the only difference (nginx `$host` drops it)', async () => {
    const dropped = await post(true, 'triage.example.org', 'https://triage.example.org:8443');
    expect(dropped.status).toBe(403);
    expect(dropped.message).toContain('proxy_set_header Host $http_host');
    // The message is fixed text: neither the Origin nor the Host is echoed.
    expect(dropped.message).not.toContain('8443');
    expect(dropped.message).not.toContain('triage.example.org');
  });
});
