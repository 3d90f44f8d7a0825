import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs a small script against the real logger in a child process and returns its stdout. */
function run(script: string): string {
  const code = `import { createLogger } from ${JSON.stringify(path.join(ROOT, 'api/logger.ts'))};\n${script}`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
  return out.stdout;
}

describe('the default log sink (batched per turn of the event loop)', () => {
  it('writes every line, in order, as one JSON object per line', () => {
    const out = run(`const log = createLogger('info'); for (let i = 0; i < 500; i++) log.info('request', { n: i }); setTimeout(() => log.warn('later', { n: 500 }), 5);`);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { n: number });
    expect(lines.map((l) => l.n)).toEqual(Array.from({ length: 501 }, (_, i) => i));
  });

  it('loses nothing when the process exits in the same turn (process.exit, or a fatal error)', () => {
    expect(run(`createLogger('info').error('fatal', { code: 7 }); process.exit(3);`)).toBe('{"level":"error","event":"fatal","code":7}\n');
    expect(run(`createLogger('info').info('before_throw'); throw new Error('boom');`)).toBe('{"level":"info","event":"before_throw"}\n');
  });
});
