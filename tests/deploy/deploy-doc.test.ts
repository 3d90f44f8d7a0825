/**
 * docs/DEPLOY.md includes the files in docs/deploy/ by reference, never by a second copy that
 * could drift, and the configuration is described in one place (docs/CONFIGURATION.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, ROOT } from './deploy-kit.ts';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const guide = read('docs/DEPLOY.md');
const configVariables = [...read('api/config.ts').matchAll(/read\.\w+\('([A-Z_]+)'/g)].map((m) => m[1]!);

/** The contents of every fenced code block in a Markdown text. */
function codeBlocks(text: string): string[] {
  return [...text.matchAll(/^\s*```[a-z]*\n([\s\S]*?)^\s*```/gm)].map((m) => m[1]!);
}

describe('docs/DEPLOY.md and the configuration reference', () => {
  it('names every file in docs/deploy/ and shows how it is installed', () => {
    const files = fs.readdirSync(DEPLOY_DIR);
    expect(files.sort()).toEqual(['haven.env.example', 'haven.service', 'nginx-haven.conf', 'torrc-haven']);
    const commands = codeBlocks(guide).join('\n');
    for (const file of files) {
      expect({ file, linked: guide.includes(`(deploy/${file})`) }).toEqual({ file, linked: true });
      expect({ file, installed: commands.includes(`/srv/haven/docs/deploy/${file}`) }).toEqual({ file, installed: true });
    }
  });

  it('holds no copy of their contents', () => {
    for (const block of codeBlocks(guide)) {
      expect(block).not.toMatch(/^\s*\[(Unit|Service|Install)\]/m);
      expect(block).not.toMatch(/^\s*(upstream|server|location) .*\{/m);
      expect(block).not.toMatch(/^\s*HiddenService(Dir|Port) /m);
      expect(block).not.toMatch(/^\s*HAVEN_[A-Z_]+=.*\n\s*HAVEN_[A-Z_]+=/m);
    }
  });

  it('describes every variable once, in docs/CONFIGURATION.md, linked from README and the guide', () => {
    const reference = read('docs/CONFIGURATION.md');
    for (const name of configVariables) expect({ name, row: reference.includes(`| \`${name}\` |`) }).toEqual({ name, row: true });
    for (const file of ['README.md', 'docs/DEPLOY.md']) {
      const text = read(file);
      expect(text).toContain('CONFIGURATION.md');
      expect({ file, table: /^\| `HAVEN_/m.test(text) }).toEqual({ file, table: false });
    }
  });
});
