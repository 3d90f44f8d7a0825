/**
 * Import boundaries outside crypto/ (STYLE.md rule 6; crypto/ checks its own):
 * - web/ imports nothing from api/, and no Node built-in (it runs in browsers);
 * - api/ imports nothing from web/: code both sides use lives in crypto/ (pure, no I/O);
 * - the top level holds only the folders the project's layout names;
 * - nothing outside crypto/sodium.ts and crypto/noble.ts imports a crypto library;
 * - only api/ repositories and db code, migrations, seeds, tests and benchmarks use Kysely
 *   query builders directly (services speak domain types).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));
}

function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2]!);
}


describe('import boundaries', () => {
  it('api/ imports nothing from web/ (the server reads the built front ends from dist/)', () => {
    const files = sources('api');
    expect(files.length).toBeGreaterThan(20);
    const intoWeb = (file: string, spec: string) => spec.startsWith('.') && path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)).startsWith('web/');
    const found = files.flatMap((file) => imports(file).filter((spec) => intoWeb(file, spec)).map((spec) => ({ file, spec })));
    expect(found).toEqual([]);
  });

  it('the top level holds only the fixed layout: api, web, crypto, migrations, seeds, tests, docs, bench, .ci (and config files)', () => {
    const allowed = new Set(['api', 'web', 'crypto', 'migrations', 'seeds', 'tests', 'docs', 'bench', '.ci', '.git', 'node_modules', 'dist', 'data']);
    const folders = fs.readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('web/ imports nothing from api/ and no Node built-in', () => {
    const files = sources('web').filter((f) => !f.endsWith('.test.ts') && f !== 'web/build.ts');
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      for (const spec of imports(file)) {
        expect({ file, spec, api: /(^|\/)api\//.test(spec) }).toEqual({ file, spec, api: false });
        expect({ file, spec, node: /^node:|^(fs|path|crypto|buffer|os|child_process)$/.test(spec) }).toEqual({ file, spec, node: false });
      }
    }
  });

  it('the server never imports the front-end build or a build tool (it serves dist/); only the build itself, api/build/build.ts, uses esbuild', () => {
    const files = ['api', 'seeds', 'migrations'].flatMap(sources).filter((f) => !f.endsWith('.test.ts') && f !== 'api/build/build.ts');
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      for (const spec of imports(file)) {
        expect({ file, spec, build: /web\/build(\.ts)?$|build\/build(\.ts)?$|^esbuild$|^tsx(\/|$)/.test(spec) }).toEqual({ file, spec, build: false });
      }
    }
  });

  it('only crypto/sodium.ts and crypto/noble.ts import a crypto library', () => {
    const files = ['api', 'web', 'seeds', 'migrations', 'bench', 'tests', 'crypto'].flatMap(sources);
    for (const file of files) {
      // The edge-vector test imports stock noble to prove the vectors separate the equations.
      if (file === 'crypto/sodium.ts' || file === 'crypto/noble.ts' || file === 'crypto/ed25519-edge.test.ts') continue;
      for (const spec of imports(file)) {
        expect({ file, spec, lib: /^(libsodium|@noble\/|tweetnacl)/.test(spec) }).toEqual({ file, spec, lib: false });
      }
    }
  });

  it('api/ services and routes do not build queries (only repositories and db code touch Kysely)', () => {
    const files = sources('api').filter((f) => /\.(service|routes)\.ts$/.test(f));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.filter((f) => /\.(selectFrom|insertInto|updateTable|deleteFrom)\(/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('nothing but api/logger.ts writes to the console (a stray log line could carry what must never be logged)', () => {
    const files = ['api', 'web', 'crypto', 'seeds'].flatMap(sources).filter((f) => !f.endsWith('.test.ts'));
    const offenders = files.filter((f) => /\bconsole\.(log|info|warn|error|debug)\(/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
