/**
 * `npm run bench`: runs every benchmark under bench/. A file that exports `run()` is
 * imported and its report printed; one that does not (crypto.bench.ts, a script) runs as a
 * child process with its output passed through. One failing benchmark does not stop the rest;
 * the exit code says whether any failed.
 *
 * `npm run bench -- intake-load` runs only the files named by the words: a word that is a
 * benchmark's exact name (`flood` for flood.bench.ts) selects that file alone; any other word
 * selects every file whose name contains it. So `bench -- flood` runs flood.bench.ts and not
 * connection-flood.bench.ts, and `bench -- connection` still runs the latter.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
const chosen = (word: string) => {
  const exact = all.filter((f) => f === `${word}.bench.ts` || f === word);
  return exact.length > 0 ? exact : all.filter((f) => f.includes(word));
};
const files = (only.length === 0 ? all : [...new Set(only.flatMap(chosen))]).sort();
if (files.length === 0) {
  process.stdout.write(`no benchmark matches ${only.join(', ')}\n`);
}

let failed = 0;
for (const file of files) {
  const full = path.join(dir, file);
  process.stdout.write(`\n## ${file}\n\n`);
  const started = performance.now();
  try {
    if (/^export\s+(async\s+)?function\s+run\s*\(/m.test(readFileSync(full, 'utf8'))) {
      const mod = (await import(pathToFileURL(full).href)) as { run: () => Promise<string> | string };
      process.stdout.write(`${await mod.run()}\n`);
    } else {
      const child = spawnSync(process.execPath, ['--import', 'tsx', full], { stdio: 'inherit' });
      if (child.status !== 0) throw new Error(`exited with ${child.status ?? child.signal}`);
    }
    process.stdout.write(`\n(${file}: ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`\n${file} FAILED: ${(err as Error).message}\n`);
  }
}
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
