/** Runs `api/main.ts` as a real child process, the way `npm start` does, on free ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');


export interface HavenProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  requesterUrl: string;
  triageUrl: string;
  exited: Promise<number | null>;
}

export function runScript(script: string, env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Starts Haven and resolves once the URLs of the sites it serves are printed (both, unless
 * HAVEN_SITES names one: the other URL is then ''); rejects if it exits first.
 */
export async function startHaven(env: Record<string, string>, timeoutMs = 90_000): Promise<HavenProcess> {
  const run = runScript('api/main.ts', { HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', ...env });
  const started = Date.now();
  for (;;) {
    const requester = /Requester site:\s+(\S+)/.exec(run.stdout());
    const triage = /Triage dashboard:\s+(\S+)/.exec(run.stdout());
    const wantRequester = env.HAVEN_SITES !== 'triage';
    const wantTriage = env.HAVEN_SITES !== 'requester';
    if ((requester || !wantRequester) && (triage || !wantTriage) && /Press Ctrl\+C/.test(run.stdout())) {
      return { ...run, requesterUrl: requester?.[1] ?? '', triageUrl: triage?.[1] ?? '' };
    }
    if (run.child.exitCode !== null) throw new Error(`haven exited early (${run.child.exitCode}): ${run.stderr()}`);
    if (Date.now() - started > timeoutMs) {
      run.child.kill('SIGKILL');
      throw new Error(`haven did not start in time: ${run.stdout()} ${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
