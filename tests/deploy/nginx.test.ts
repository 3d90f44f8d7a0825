/**
 * docs/deploy/nginx-haven.conf as written, checked by Debian's nginx (`nginx -t`) inside a
 * copy of Debian's http { } block, with only its certificate and log paths moved into a
 * temporary prefix (self-signed certificates made there by openssl) and its listen ports moved
 * to free loopback ones (`nginx -t` binds them). The proxy itself, with
 * Haven behind it, is exercised in nginx-proxy.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, nginxListenReplacements, nginxMainConfig, nginxPathReplacements, readDeployFile, removeTempDirs, render, requireTools, ROOT, run, selfSignedCertificate, tempDir } from './deploy-kit.ts';

const tools = requireTools('tests/deploy/nginx.test.ts', { nginx: 'nginx', openssl: 'openssl' });
const site = readDeployFile('nginx-haven.conf');

/** Directive lines (comments and blank lines dropped), trimmed. */
const directives = site.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);

describe('docs/deploy/nginx-haven.conf as written', () => {
  it('never logs access and never forwards a client address', () => {
    const servers = directives.filter((d) => d === 'server {').length;
    expect(directives.filter((d) => d === 'access_log off;')).toHaveLength(servers);
    expect(directives.filter((d) => d.startsWith('access_log') && d !== 'access_log off;')).toEqual([]);
    expect(directives.filter((d) => d.startsWith('error_log'))).toEqual(Array(2).fill('error_log /var/log/nginx/haven-error.log crit;'));
    expect(site).not.toMatch(/\$remote_addr|\$proxy_add_x_forwarded_for|\$http_user_agent|\$request_body/);
    // Every proxied location (each site's, and the requester's upload endpoint) blanks it.
    const proxied = directives.filter((d) => d.startsWith('proxy_pass ')).length;
    expect(proxied).toBe(3);
    expect(directives.filter((d) => d.startsWith('proxy_set_header X-Forwarded-For'))).toEqual(Array(proxied).fill('proxy_set_header X-Forwarded-For "";'));
  });

  it('names no nginx version in any server that answers HTTP (the port-80 redirect included)', () => {
    const blocks = site.split(/^server \{$/m).slice(1);
    const answering = blocks.filter((b) => !/^\s*ssl_reject_handshake on;/m.test(b));
    expect(answering.length).toBe(3);
    for (const b of answering) expect({ server: /server_name ([^;]+);/.exec(b)?.[1], tokens: /^\s*server_tokens off;/m.test(b) }).toMatchObject({ tokens: true });
  });

  it('passes Host as the browser sent it and caps bodies, time and sockets per site', () => {
    for (const d of ['client_max_body_size 1m;', 'client_header_timeout 5s;', 'client_body_timeout 5s;', 'send_timeout 10s;', 'keepalive_timeout 15s;', 'limit_conn haven_per_site 512;']) {
      expect({ d, count: directives.filter((x) => x === d).length }).toEqual({ d, count: 2 });
    }
    expect(directives.filter((x) => x === 'proxy_set_header Host $http_host;')).toHaveLength(3);
    expect(directives).toContain('limit_conn_zone $server_name zone=haven_per_site:1m;');
    // Only the endpoint that takes files accepts more, and only a few such bodies at once.
    const upload = /location = \/api\/v1\/requests \{([^}]*)\}/.exec(site)?.[1] ?? '';
    expect(upload).toMatch(/^\s*client_max_body_size 23m;/m);
    expect(upload).toMatch(/^\s*limit_conn haven_uploads \d+;/m);
    expect(directives).toContain('limit_conn_zone $server_name zone=haven_uploads:1m;');
  });

  it('balances each site over several instances with passive checks (no health_check: Debian lacks it)', () => {
    for (const name of ['haven_requester', 'haven_triage']) {
      const block = /upstream (\w+) \{([^}]*)\}/g;
      const found = [...site.matchAll(block)].find((m) => m[1] === name);
      expect(found).toBeDefined();
      const servers = found![2]!.split('\n').filter((l) => /^\s*server /.test(l));
      expect(servers.length).toBeGreaterThanOrEqual(2);
      for (const s of servers) expect(s).toMatch(/max_fails=\d+ fail_timeout=\d+s;/);
    }
    expect(directives.filter((d) => d.startsWith('health_check'))).toEqual([]);
  });
});

describe.skipIf(tools === null)('docs/deploy/nginx-haven.conf checked by nginx -t', () => {
  const nginx = tools?.nginx ?? '';
  let prefix: string;

  let listen: [string, string][];

  /** `nginx -t` on the site text, its listen ports moved to free loopback ones. */
  function test(siteText: string): ReturnType<typeof run> {
    siteText = render(siteText, listen);
    const siteFile = path.join(prefix, `site-${Math.random().toString(36).slice(2)}.conf`);
    fs.writeFileSync(siteFile, siteText);
    const main = path.join(prefix, `nginx-${path.basename(siteFile)}`);
    fs.writeFileSync(main, nginxMainConfig(prefix, siteFile));
    return run(nginx, ['-t', '-q', '-p', prefix, '-e', path.join(prefix, 'logs/startup.log'), '-c', main]);
  }

  beforeAll(async () => {
    listen = await nginxListenReplacements(await freePort(), await freePort());
    prefix = tempDir('haven-nginx-t-');
    fs.mkdirSync(path.join(prefix, 'logs'));
    fs.mkdirSync(path.join(prefix, 'tls'));
    selfSignedCertificate(tools!.openssl, path.join(prefix, 'tls'), ['help.example.org', 'triage.example.org']);
  });
  afterAll(removeTempDirs);

  it('is accepted inside Debian\'s http block, without a warning', () => {
    const result = test(render(site, nginxPathReplacements(prefix)));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('is accepted after the guide\'s own sed lines (new names, one instance), run with sed', () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs/DEPLOY.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## 6. TLS reverse proxy'), guide.indexOf('## 7. '));
    const renames = [...section.matchAll(/-e '(s\/[^']+\/g)'/g)].map((m) => m[1]!);
    const oneInstance = /sed -i '(\/[^']+\/d)' \/etc\/nginx\/conf\.d\/haven\.conf/.exec(section)?.[1];
    expect(renames).toHaveLength(2);
    expect(oneInstance).toBeDefined();
    const sed = run('sed', [...renames.flatMap((e) => ['-e', e]), '-e', oneInstance!, path.join(ROOT, 'docs/deploy/nginx-haven.conf')]);
    expect(sed.status).toBe(0);
    expect(sed.stdout).not.toContain('example.org');
    expect(sed.stdout.match(/^\s*server 127\.0\.0\.1:\d+ /gm)).toHaveLength(2);
    selfSignedCertificate(tools!.openssl, path.join(prefix, 'tls'), ['help.yourorg.net', 'triage.yourorg.net']);
    const result = test(render(sed.stdout, nginxPathReplacements(prefix)));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('would be refused with the health_check directive (the check is real)', () => {
    const withHealthCheck = render(site, [...nginxPathReplacements(prefix), ['proxy_pass http://haven_triage;', 'proxy_pass http://haven_triage;\n        health_check uri=/api/v1/health;']]);
    const result = test(withHealthCheck);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('unknown directive "health_check"');
  });

  it('would be refused if it set gzip at the http level, where Debian already sets it (the copy of that block is faithful)', () => {
    const result = test(`gzip off;\n${render(site, nginxPathReplacements(prefix))}`);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('"gzip" directive is duplicate');
  });
});
