/**
 * Haven behind the documented nginx site, on loopback, as an operator would run it:
 *
 * - Haven is configured from docs/deploy/haven.env.example (placeholders filled) in
 *   production mode, HAVEN_BEHIND_TLS=true, on the embedded database. Production refuses the
 *   demo seed, so the demo organisation and a demo admin are seeded in test mode first and
 *   Haven is then started in production mode on that same data directory.
 * - docs/deploy/nginx-haven.conf is rendered with plain replacements (what the guide's sed
 *   line does): Haven's real ports for instance 1, a port nothing listens on for instance 2
 *   (a dead instance the passive check must route around), certificate and log paths into a
 *   temporary prefix with a self-signed certificate made by openssl, and loopback ports
 *   instead of 443 and 80. The host names stay: the client resolves them to 127.0.0.1.
 * - nginx runs in the foreground with that prefix; the client speaks HTTPS (HTTP/1.1 and,
 *   for the sign-in, HTTP/2 as browsers do) trusting only that certificate.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { openDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { createDemoAdmin, makeDemoAccountKeys, seedDemo } from '../../seeds/demo.ts';
import { startHaven, type HavenProcess } from '../helpers/haven-process.ts';
import { deriveCached } from '../helpers/responder-client.ts';
import {
  freePort, nginxListenReplacements, nginxMainConfig, nginxPathReplacements, parseEnvFile, readDeployFile, removeTempDirs, render, requireTools, selfSignedCertificate, tempDir,
} from './deploy-kit.ts';

const tools = requireTools('tests/deploy/nginx-proxy.test.ts', { nginx: 'nginx', openssl: 'openssl' });

const HELP = 'help.example.org';
const TRIAGE = 'triage.example.org';
const ADMIN = 'demo.admin';
const PASSPHRASE = 'proxy proxy proxy proxy proxy proxy proxy';
/** Sent as the user agent and inside a body: must appear in no log. */
const CANARY = `canary-${randomBytes(6).toString('hex')}`;

/** Resolves the two site names to loopback, as DNS would to the server; nothing else changes. */
const lookup: net.LookupFunction = (hostname, options, callback) => {
  if (hostname !== HELP && hostname !== TRIAGE) return dns.lookup(hostname, options, callback);
  if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  return callback(null, '127.0.0.1', 4);
};

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe.skipIf(tools === null)('Haven behind docs/deploy/nginx-haven.conf, over TLS', () => {
  const p = loadSodiumPrimitives();
  let prefix: string;
  let ca: string;
  let haven: HavenProcess;
  let nginx: ChildProcess;
  let nginxOutput = '';
  let tlsPort: number;
  let httpPort: number;

  /** One HTTPS/1.1 request, trusting only the test certificate. */
  function request(host: string, pathname: string, options: { method?: string; headers?: Record<string, string>; body?: string; port?: number } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host, port: options.port ?? tlsPort, path: pathname, method: options.method ?? 'GET', ca, lookup, agent: false, headers: { 'user-agent': CANARY, ...options.headers }, timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', reject);
      req.end(options.body);
    });
  }

  /** One request over an HTTP/2 session, as a browser makes it. */
  function h2(session: http2.ClientHttp2Session, pathname: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':method': options.method ?? 'GET', ':path': pathname, 'user-agent': CANARY, ...options.headers });
      let headers: http2.IncomingHttpHeaders = {};
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (h) => (headers = h));
      stream.on('data', (d: string) => (body += d));
      stream.on('end', () => resolve({ status: Number(headers[':status']), headers: headers as http.IncomingHttpHeaders, body }));
      stream.on('error', reject);
      stream.end(options.body);
    });
  }

  beforeAll(async () => {
    const crypto = await p;
    prefix = tempDir('haven-proxy-');
    // nginx's workers run as nobody when started as root: they must reach the body buffer
    // directory (a request with files, above client_body_buffer_size, is buffered there).
    fs.chmodSync(prefix, 0o711);
    const dataDir = path.join(prefix, 'data');
    for (const dir of ['logs', 'tls', 'data']) fs.mkdirSync(path.join(prefix, dir), { mode: 0o700 });

    // Seed in test mode (production refuses demo data), as `npm run seed` would.
    const seedConfig = loadConfig({ HAVEN_MODE: 'test', HAVEN_DATA_DIR: dataDir });
    const database = await openDatabase({ databaseUrl: null, dataDir });
    let rootPublicKey: Uint8Array;
    try {
      await migrateToLatest(database.db);
      const seeded = await seedDemo(database.db, seedConfig, crypto);
      if (!seeded.created) throw new Error('expected a fresh database');
      rootPublicKey = seeded.demo.root.publicKey;
      await createDemoAdmin(database.db, crypto, seeded.demo, await makeDemoAccountKeys(crypto, ADMIN, PASSPHRASE));
    } finally {
      await database.close();
    }

    // Then production, configured from the example file with its placeholders filled.
    const env = parseEnvFile(readDeployFile('haven.env.example'));
    haven = await startHaven({
      ...env,
      DATABASE_URL: '',
      HAVEN_DATA_DIR: dataDir,
      HAVEN_ROOT_PUBLIC_KEY_FILE: path.join(dataDir, 'root-public-key.txt'),
      HAVEN_ROOT_PUBLIC_KEY: Buffer.from(rootPublicKey).toString('hex'),
      HAVEN_SERVER_SECRET: randomBytes(32).toString('hex'),
      HAVEN_REQUESTER_PORT: '0',
      HAVEN_TRIAGE_PORT: '0',
      HAVEN_SHUTDOWN_GRACE_SECONDS: '1',
    });
    expect(env).toMatchObject({ HAVEN_MODE: 'production', HAVEN_BEHIND_TLS: 'true' });
    const port = (url: string) => new URL(url).port;

    ca = selfSignedCertificate(tools!.openssl, path.join(prefix, 'tls'), [HELP, TRIAGE]);
    [tlsPort, httpPort] = [await freePort(), await freePort()];
    const [deadRequester, deadTriage] = [await freePort(), await freePort()];
    const site = render(readDeployFile('nginx-haven.conf'), [
      ...nginxPathReplacements(prefix),
      ['127.0.0.1:8080', `127.0.0.1:${port(haven.requesterUrl)}`],
      ['127.0.0.1:8081', `127.0.0.1:${port(haven.triageUrl)}`],
      ['127.0.0.1:8180', `127.0.0.1:${deadRequester}`],
      ['127.0.0.1:8181', `127.0.0.1:${deadTriage}`],
      ...(await nginxListenReplacements(tlsPort, httpPort)),
    ]);
    const siteFile = path.join(prefix, 'haven.conf');
    fs.writeFileSync(siteFile, site);
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), nginxMainConfig(prefix, siteFile));

    nginx = spawn(tools!.nginx, ['-p', prefix, '-e', path.join(prefix, 'logs/startup.log'), '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    nginx.stderr!.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    const started = Date.now();
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(tlsPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (nginx.exitCode !== null || Date.now() - started > 15_000) throw new Error(`nginx did not start: ${nginxOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    if (haven && haven.child.exitCode === null) {
      haven.child.kill('SIGTERM');
      await haven.exited;
    }
    removeTempDirs();
  });

  it('serves the requester page and health over HTTPS, every time, with instance 2 down', async () => {
    for (let i = 0; i < 6; i++) {
      const page = await request(HELP, '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toMatch(/<script type="module" src="\/assets\/main-[0-9a-f]{12}\.js" integrity="sha384-/);
      expect(page.headers['strict-transport-security']).toBe('max-age=63072000');
      expect(page.headers.server).toBe('nginx');
    }
    for (const host of [HELP, TRIAGE]) {
      const health = await request(host, '/api/v1/health');
      expect(health.status).toBe(200);
    }
  });

  it('signs the demo admin in to the triage dashboard over HTTP/2, with a Secure cookie', async () => {
    const crypto = await p;
    const origin = `https://${TRIAGE}:${tlsPort}`;
    const session = http2.connect(origin, { ca, lookup } as http2.SecureClientSessionOptions);
    try {
      const json = { 'content-type': 'application/json', origin };
      const saltRes = await h2(session, '/api/v1/login/salt', { method: 'POST', headers: json, body: JSON.stringify({ username: ADMIN }) });
      expect(saltRes.status).toBe(200);
      const { salt, params } = JSON.parse(saltRes.body) as { salt: string; params: { ops: number; memKiB: number } };
      const secrets = await deriveCached(crypto, PASSPHRASE, base64urlDecode(salt), params);
      const login = await h2(session, '/api/v1/login', { method: 'POST', headers: json, body: JSON.stringify({ username: ADMIN, verifier: base64urlEncode(secrets.loginVerifier) }) });
      expect(login.status).toBe(200);
      const setCookie = String(login.headers['set-cookie']);
      expect(setCookie).toMatch(/^haven_session=[^;]+;/);
      expect(setCookie).toMatch(/; Secure/);
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; SameSite=Strict/);
      const cookie = /^(haven_session=[^;]+)/.exec(setCookie)![1]!;

      const me = await h2(session, '/api/v1/session', { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(JSON.parse(me.body).account).toMatchObject({ username: ADMIN, role: 'admin', status: 'active' });
      const dashboard = await h2(session, '/', { headers: { cookie } });
      expect(dashboard.status).toBe(200);
      expect(dashboard.headers['content-type']).toContain('text/html');

      // Another site's page cannot act with the cookie.
      const foreign = await h2(session, '/api/v1/logout', { method: 'POST', headers: { cookie, origin: `https://${HELP}:${tlsPort}` } });
      expect(foreign.status).toBe(403);
    } finally {
      session.close();
    }
  });

  it('refuses a body larger than HAVEN_MAX_BODY_BYTES at nginx, and on the upload endpoint one larger than it takes', async () => {
    const res = await request(HELP, '/api/v1/lookup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"x":"${CANARY}${'a'.repeat(1024 * 1024)}"}` });
    expect(res.status).toBe(413);
    const upload = await request(HELP, '/api/v1/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"x":"${CANARY}${'a'.repeat(24 * 1024 * 1024)}"}` });
    expect(upload.status).toBe(413);
    // Between the two: nginx passes it on, and Haven judges it (a JSON error, not nginx's page).
    const middle = await request(HELP, '/api/v1/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}` });
    expect(middle.status).toBe(400);
    expect(middle.body).toContain('"error"');
  });

  it('cuts a client that stops sending its body within seconds', { timeout: 20_000 }, async () => {
    const started = Date.now();
    const closed = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: HELP, ca }, () => {
        socket.write(`POST /api/v1/requests HTTP/1.1\r\nHost: ${HELP}:${tlsPort}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"envelope":`);
      });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (received += d));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(4);
    expect(seconds).toBeLessThan(10);
    expect(closed === '' || closed.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: HELP, port: httpPort, path: '/some/path', lookup, agent: false }, resolve).on('error', reject);
    });
    res.resume();
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe(`https://${HELP}/some/path`);
  });

  it('left no client address, user agent or body in any log', async () => {
    // Everything nginx and Haven wrote: nginx's log files (including the http-level access
    // log Debian's nginx.conf sets, which the site's `access_log off` overrides), and Haven's output.
    const logs = fs.readdirSync(path.join(prefix, 'logs')).map((f) => [f, fs.readFileSync(path.join(prefix, 'logs', f), 'utf8')] as const);
    const accessLog = logs.find(([f]) => f === 'access.log');
    expect(accessLog?.[1] ?? '').toBe('');
    for (const [file, text] of [...logs, ['nginx output', nginxOutput] as const, ['haven stdout', haven.stdout()] as const, ['haven stderr', haven.stderr()] as const]) {
      expect({ file, canary: text.includes(CANARY) }).toEqual({ file, canary: false });
      expect({ file, client: /client: \d/.test(text) }).toEqual({ file, client: false });
    }
    // Haven logged the requests (method, route, status) and nothing that names the client.
    expect(haven.stdout()).toContain('"route":"/api/v1/login"');
    expect(haven.stdout().split('\n').filter((l) => l.includes('"event":"request"') && l.includes('127.0.0.1'))).toEqual([]);
  });
});
