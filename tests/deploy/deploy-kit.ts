/**
 * What the deployment-file tests share: finding Debian's real tools (systemd-analyze, nginx,
 * tor, openssl), temporary directories, rendering a file from docs/deploy/ with plain
 * string replacements (what an operator's `sed -e 's/…/…/g'` does), and a self-signed
 * certificate.
 *
 * A missing tool skips its tests with one line on stderr, except under CI=true, where
 * .ci/run installs the tools and a missing one is an error: a deployment file nobody
 * checked is the drift these tests exist to catch.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DEPLOY_DIR = path.join(ROOT, 'docs/deploy');

const SEARCH_PATH = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].filter(Boolean);

/** The absolute path of `name` on PATH (plus the sbin directories nginx and tor live in), or null. */
export function findTool(name: string): string | null {
  for (const dir of SEARCH_PATH) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The paths of the tools a test file needs, or null when one is missing outside CI (after
 * printing one line saying which and how to install it). Throws under CI=true.
 */
export function requireTools<T extends string>(testFile: string, tools: Record<T, string>): Record<T, string> | null {
  const found = {} as Record<T, string>;
  const missing: string[] = [];
  for (const [name, debianPackage] of Object.entries(tools) as [T, string][]) {
    const at = findTool(name);
    if (at) found[name] = at;
    else missing.push(`${name} (apt-get install ${debianPackage})`);
  }
  if (missing.length === 0) return found;
  const line = `${testFile}: ${missing.join(', ')} not installed`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${line}; .ci/run installs it`);
  process.stderr.write(`[haven tests] skipping ${line}.\n`);
  return null;
}

const made: string[] = [];
/** A fresh temporary directory, removed by `removeTempDirs()`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function readDeployFile(name: string): string {
  return fs.readFileSync(path.join(DEPLOY_DIR, name), 'utf8');
}

/** NAME=value lines as systemd reads them (no quotes used, so none to strip). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^\s*[#;]/.test(line)) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not a NAME=value line: ${line}`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** Replaces every occurrence of each `from` with its `to`, and insists each one occurred. */
export function render(text: string, replacements: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of replacements) {
    if (!out.includes(from)) throw new Error(`render: "${from}" does not occur (has the file changed?)`);
    out = out.split(from).join(to);
  }
  return out;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion and returns its exit status and output (never throws on a non-zero exit). */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: options.timeoutMs ?? 30_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A self-signed certificate (its own CA) valid for `names`, written as Let's Encrypt lays
 * out its files: `<dir>/<name>/fullchain.pem` and `privkey.pem` for each name.
 * @returns the certificate in PEM, to trust in a client.
 */
export function selfSignedCertificate(openssl: string, dir: string, names: readonly string[]): string {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  for (const name of names) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    fs.copyFileSync(cert, path.join(dir, name, 'fullchain.pem'));
    fs.copyFileSync(key, path.join(dir, name, 'privkey.pem'));
  }
  return fs.readFileSync(cert, 'utf8');
}

/**
 * A top-level nginx.conf for a temporary prefix that includes `siteFile` inside http { }
 * exactly where Debian's /etc/nginx/nginx.conf includes conf.d/*.conf, with the http-level
 * settings Debian's file already makes (so a directive the site file repeats at that level
 * fails here as it would there). Every path nginx writes is under `prefix`.
 */
export function nginxMainConfig(prefix: string, siteFile: string): string {
  return `
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/main-error.log;
events { worker_connections 768; }
http {
    client_body_temp_path ${prefix}/body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;

    # As in Debian's /etc/nginx/nginx.conf:
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log ${prefix}/logs/access.log;
    gzip on;

    include ${siteFile};
}
`;
}

/** Site-file replacements that point certificates and logs into a temporary prefix. */
export function nginxPathReplacements(prefix: string): [string, string][] {
  return [
    ['/etc/letsencrypt/live/', `${prefix}/tls/`],
    ['/var/log/nginx/', `${prefix}/logs/`],
  ];
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on [::1] (some machines have no IPv6 loopback). */
export function ipv6LoopbackFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '::1', () => server.close(() => resolve(true)));
  });
}

/**
 * Site-file replacements that move `listen 443` and `listen 80` to loopback ports: even
 * `nginx -t` binds every listen address, which needs root for 443 and 80 and fails when
 * another server holds them. The IPv6 twins go to [::1] when it is free, else are dropped.
 */
export async function nginxListenReplacements(tlsPort: number, httpPort: number): Promise<[string, string][]> {
  const v6 = (await ipv6LoopbackFree(tlsPort)) && (await ipv6LoopbackFree(httpPort));
  return [
    ['    listen [::]:443 ', v6 ? `    listen [::1]:${tlsPort} ` : '    # listen [::]:443 '],
    ['    listen [::]:80;', v6 ? `    listen [::1]:${httpPort};` : '    # listen [::]:80;'],
    ['    listen 443 ', `    listen 127.0.0.1:${tlsPort} `],
    ['    listen 80;', `    listen 127.0.0.1:${httpPort};`],
  ];
}
