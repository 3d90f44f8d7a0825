/**
 * Import boundaries (STYLE.md rules 6-7): crypto/ imports nothing from api/ or web/, no Node
 * built-ins; only sodium.ts imports libsodium and only noble.ts imports @noble. And the whole
 * module bundles for the browser with esbuild without pulling in a Node built-in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('.', import.meta.url));

function sources(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const path = join(d, f);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(f) && !/\.test\.ts$/.test(f) ? [path] : [];
  });
}

function imports(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

describe('crypto/ import boundaries', () => {
  const files = sources(dir);
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  it('finds the modules', () => expect(files.length).toBeGreaterThan(10));
  it.each(files.map((f) => [relative(dir, f), f]))('%s imports only allowed modules', (name, f) => {
    const src = readFileSync(f, 'utf8');
    for (const spec of imports(src)) {
      expect(builtins.has(spec), `${name}: ${spec}`).toBe(false);
      expect(spec.startsWith('node:'), spec).toBe(false);
      expect(/(^|\/)(api|web)\//.test(spec) || /\.\.\/\.\.\/(api|web)/.test(spec), spec).toBe(false);
      if (spec.startsWith('libsodium')) expect(name).toBe('sodium.ts');
      if (spec.startsWith('@noble/')) expect(name).toBe('noble.ts');
      if (!spec.startsWith('.')) expect(['libsodium-wrappers-sumo'].includes(spec) || spec.startsWith('@noble/'), spec).toBe(true);
    }
    expect(/\bBuffer\b/.test(src.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')), `${name} uses Buffer`).toBe(false);
    expect(/\bprocess\./.test(src), `${name} uses process`).toBe(false);
  });
});

describe('browser bundle', () => {
  it('esbuild bundles crypto/index.ts for the browser (esm) with no Node built-in', async () => {
    const r = await build({
      entryPoints: [join(dir, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((i) => i.includes('@noble'))).toBe(true);
    for (const i of inputs) expect(i.startsWith('node:') || builtinModules.includes(i), i).toBe(false);
    for (const out of Object.values(r.metafile.outputs)) {
      for (const imp of out.imports) expect(imp.external ? imp.path : 'bundled', imp.path).toBe('bundled');
    }
  });
  it('a noble-only entry (the requester page without WebAssembly) bundles without libsodium', async () => {
    const r = await build({
      stdin: { contents: "export { noblePrimitives } from './noble.ts'; export * from './v1/index.ts';", resolveDir: dir, loader: 'ts' },
      bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent',
    });
    expect(Object.keys(r.metafile.inputs).some((i) => i.includes('libsodium'))).toBe(false);
  });
});
