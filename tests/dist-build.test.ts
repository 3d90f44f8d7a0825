/**
 * The production build: `node dist/server/main.js` runs with runtime dependencies only (a
 * module hook makes any import of tsx or esbuild fail), never reads web/ sources, and serves
 * static pages: identical bytes on every request, whatever the request says.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { base64urlEncode } from '../crypto/encoding.ts';
import { sourceHash, staleReason } from '../api/build/source-hash.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name.endsWith('.js')).map((d) => path.join(d.parentPath, d.name));
}

function bareImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|[\s;])(?:import|export)\s*(?:[^'"()]*?\sfrom\s*)?["']([^"'./][^"']*)["']|import\(\s*["']([^"'./][^"']*)["']\s*\)/gm)].map((m) => (m[1] ?? m[2])!);
}

describe('dist/', () => {
  it('is up to date with the sources and lists every file it holds with its hash', () => {
    expect(staleReason(ROOT, DIST)).toBeNull();
    const manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'build-manifest.json'), 'utf8')) as { files: Record<string, { sha256: string; size: number; contentType: string }> };
    const onDisk = fs
      .readdirSync(DIST, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name !== 'build-manifest.json')
      .map((d) => path.relative(DIST, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
      .sort();
    expect(Object.keys(manifest.files).sort()).toEqual(onDisk);
    expect(manifest.files['server/main.js']).toMatchObject({ contentType: 'text/javascript; charset=utf-8', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('imports only Node built-ins and runtime dependencies: no tsx, no esbuild, nothing from web/', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set(Object.keys(pkg.dependencies));
    const files = [...jsFiles(path.join(DIST, 'server')), ...jsFiles(path.join(DIST, 'migrations'))];
    expect(files.length).toBeGreaterThan(7);
    expect(bareImports(path.join(DIST, 'server', 'main.js'))).toEqual(expect.arrayContaining(['hono', '@hono/node-server', 'node:crypto']));
    for (const file of files) {
      for (const spec of bareImports(file)) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const ok = spec.startsWith('node:') || allowed.has(name);
        expect({ file: path.relative(DIST, file), spec, ok }).toEqual({ file: path.relative(DIST, file), spec, ok: true });
      }
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toMatch(/["'](esbuild|tsx)(\/[^"']*)?["']/);
      expect(text).not.toMatch(/["'][^"']*\/web\/(requester|triage|build)[^"']*\.ts["']/);
    }
  });

  it('a runtime-only install is never stale; a changed source is', () => {
    const dir = temp('haven-stale-');
    fs.mkdirSync(path.join(dir, 'api'));
    fs.writeFileSync(path.join(dir, 'api', 'a.ts'), 'export const a = 1;\n');
    fs.mkdirSync(path.join(dir, 'dist'));
    expect(staleReason(dir, path.join(dir, 'dist'))).toBe('no finished build in dist/');
    fs.writeFileSync(path.join(dir, 'dist', 'build-manifest.json'), JSON.stringify({ sourceHash: sourceHash(dir) }));
    expect(staleReason(dir, path.join(dir, 'dist'))).toBeNull();
    // Same mtime order, different bytes: only the hash notices.
    const stamp = fs.statSync(path.join(dir, 'dist', 'build-manifest.json')).mtime;
    fs.writeFileSync(path.join(dir, 'api', 'a.ts'), 'export const a = 2;\n');
    fs.utimesSync(path.join(dir, 'api', 'a.ts'), new Date(stamp.getTime() - 60_000), new Date(stamp.getTime() - 60_000));
    expect(staleReason(dir, path.join(dir, 'dist'))).toBe('the sources differ from the last build');
    fs.utimesSync(path.join(dir, 'api', 'a.ts'), new Date(stamp.getTime() + 60_000), new Date(stamp.getTime() + 60_000));
    expect(staleReason(dir, path.join(dir, 'dist'))).toBe('api/a.ts changed after the last build');
    // No sources at all (package*.json and dist/ only): use the build as it is.
    fs.rmSync(path.join(dir, 'api'), { recursive: true });
    expect(staleReason(dir, path.join(dir, 'dist'))).toBeNull();
  });
});

describe('node dist/server/main.js', () => {
  it('starts without tsx or esbuild, and serves the same page bytes to every request', { timeout: 120_000 }, async () => {
    const dir = temp('haven-dist-');
    // Any attempt to load tsx or esbuild at run time throws.
    const hook = path.join(dir, 'forbid-build-tools.mjs');
    const resolver = `export async function resolve(s, c, next) { if (/^(tsx|esbuild)(\\/|$)/.test(s)) throw new Error('forbidden at run time: ' + s); return next(s, c); }`;
    fs.writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolver)}));\n`);
    const root = base64urlEncode(new Uint8Array(32).fill(5));
    const child = spawn(process.execPath, ['--import', hook, path.join(DIST, 'server', 'main.js')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        HAVEN_DATA_DIR: path.join(dir, 'data'),
        HAVEN_REQUESTER_PORT: '0',
        HAVEN_TRIAGE_PORT: '0',
        HAVEN_ROOT_PUBLIC_KEY: Buffer.from(new Uint8Array(32).fill(5)).toString('hex'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!/Triage dashboard:\s+\S+/.test(out)) {
        if (child.exitCode !== null) throw new Error(`exited early: ${err}`);
        if (Date.now() - started > 90_000) throw new Error(`did not start: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const requester = /Requester site:\s+(\S+)/.exec(out)![1]!;
      const triage = /Triage dashboard:\s+(\S+)/.exec(out)![1]!;
      for (const base of [requester, triage]) {
        expect((await fetch(new URL('/api/v1/health', base))).status).toBe(200);
        const a = await fetch(base, { headers: { 'accept-language': 'ru', cookie: 'x=1' } });
        const b = await fetch(base, { headers: { 'accept-language': 'en' } });
        const [ta, tb] = [await a.text(), await b.text()];
        expect(ta).toBe(tb);
        expect(a.headers.get('content-security-policy')).toBe(b.headers.get('content-security-policy'));
        expect(a.headers.get('content-security-policy')).not.toContain("'self' 'sha");
        expect(ta).toContain(`<meta name="haven-root-public-key" content="${root}">`);
        expect(ta).toContain('<meta name="haven-key-serial-floor" content="">');
        const manifest = (await (await fetch(new URL('/.well-known/haven-manifest.json', base))).json()) as { rootPublicKey: string; signature: string | null };
        expect(manifest.rootPublicKey).toBe(root);
        expect(manifest.signature).toBeNull();
      }
      expect(err).toBe('');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
