/**
 * The front ends stay small (STYLE.md rule 16): no file under web/ is over 400 lines. A
 * screen that outgrows that is split by view (web/triage/views/, web/triage/admin/), so each
 * file can be read, and reviewed for where decrypted text goes, in one sitting.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAX_LINES = 400;

it(`no file under web/ is over ${MAX_LINES} lines`, () => {
  const files = fs
    .readdirSync(path.join(ROOT, 'web'), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(ROOT, path.join(d.parentPath, d.name)));
  expect(files.length).toBeGreaterThan(15);
  const tooLong = files
    .map((file) => ({ file, lines: fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n').length }))
    .filter((f) => f.lines > MAX_LINES);
  expect(tooLong).toEqual([]);
});
