/**
 * `npm run verify-site` against a real server: all files match the root-signed manifest
 * (exit 0); one changed byte in one served asset is caught and named (exit 1); a different
 * root is refused; a bad command line exits 2.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64urlEncode } from '../crypto/encoding.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function verifySite(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'verify-site', 'verify-site.cli.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('verify-site', () => {
  let live: LiveServer;
  beforeAll(async () => {
    live = await startLiveServer();
  });
  afterAll(async () => {
    await live?.stop();
  });

  it('[served code is checkable] passes when every served file matches the manifest signed at seeding', { timeout: 60_000 }, async () => {
    const root = base64urlEncode(live.demo.root.publicKey);
    for (const url of [live.server.requesterUrl, live.server.triageUrl]) {
      const run = await verifySite([url, '--root', root]);
      expect(run.out).toMatch(/^OK: all \d+ files of the (requester|triage) site match/);
      expect(run.out).toMatch(/Manifest SHA-256: [0-9a-f]{64}/);
      expect(run.code).toBe(0);
    }
  });

  it('fails for another root key, and on a bad command line', { timeout: 60_000 }, async () => {
    const other = base64urlEncode(new Uint8Array(32).fill(1));
    const wrong = await verifySite([live.server.requesterUrl, '--root', other]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain('names a different root key');
    expect((await verifySite([live.server.requesterUrl])).code).toBe(2);
    expect((await verifySite(['not-a-url', '--root', other])).code).toBe(2);
  });

  it('names the first file whose served bytes differ by one byte', { timeout: 60_000 }, async () => {
    const files = live.server.sites.get('requester').files;
    const asset = [...files.keys()].find((u) => u.endsWith('.css'))!;
    const original = files.get(asset)!;
    const body = original.body.slice();
    body[0] = body[0]! ^ 1;
    // The server now serves other bytes under the same name; its manifest still lists the old hash.
    files.set(asset, { ...original, body, gzip: body });
    try {
      const run = await verifySite([live.server.requesterUrl, '--root', base64urlEncode(live.demo.root.publicKey)]);
      expect(run.code).toBe(1);
      expect(run.out).toContain(`FAILED: ${asset} differs from the signed manifest`);
    } finally {
      files.set(asset, original);
    }
  });
});
