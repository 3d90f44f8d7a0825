/**
 * The one proof-of-work solver of both sites (v2, crypto/v2/pow.ts): the requester page runs
 * it in its worker (web/requester/pow-worker.ts), the dashboard's sign-in on the page while a
 * name is throttled (web/triage/views/login.ts, PROTOCOL.md 22.3).
 *
 * SHA-256 comes from WebCrypto (`crypto.subtle.digest`): native code even in Tor Browser's
 * Safer level (no JIT, no WebAssembly), so the honest browser hashes at a speed comparable to
 * an attacker's native code. Each digest is a promise; many are awaited together (a batch) so
 * the per-call cost overlaps, and the page stays responsive between batches. Only where
 * WebCrypto is missing (a page served over plain HTTP outside localhost and .onion is not a
 * secure context) does it fall back to noble's pure-JS SHA-256, many times slower.
 */
import { nobleSha256 } from '../../crypto/noble.ts';
import { type PowSolutionV2, type Sha256Batch, solvePowV2 } from '../../crypto/v2/pow.ts';

/** Digests awaited together: enough to hide the per-call cost, small enough for smooth progress. */
const BATCH = 256;

/**
 * Solves `challenge` at `effort`. `onProgress` gets an estimate in 0..1 (expected work is
 * 2^effort; the estimate approaches but never claims 100%).
 * @throws as solvePowV2 (a malformed challenge or effort).
 */
export async function solvePowInBrowser(challenge: Uint8Array, effort: number, onProgress?: (fraction: number) => void): Promise<PowSolutionV2 & { webCrypto: boolean }> {
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  const digest: Sha256Batch = subtle
    ? (inputs) => Promise.all(inputs.map(async (input) => new Uint8Array(await subtle.digest('SHA-256', input as Uint8Array<ArrayBuffer>))))
    : (inputs) => Promise.resolve(inputs.map(nobleSha256));
  const random = new Uint8Array(4);
  globalThis.crypto.getRandomValues(random);
  const solution = await solvePowV2(digest, challenge, effort, {
    batch: subtle ? BATCH : 64,
    randomPrefix: random,
    onProgress: onProgress && ((tried, expected) => onProgress(1 - Math.exp(-tried / expected))),
  });
  return { ...solution, webCrypto: subtle !== undefined };
}
