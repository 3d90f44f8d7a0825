/**
 * Solves a proof-of-work challenge (v2, crypto/v2/pow.ts) off the main thread, so the page
 * stays responsive and can show progress. Messages: in `{challenge, effort}`; out `{progress}`
 * (0..1, an estimate) and finally `{nonce, effort}`, or `{error}`.
 *
 * SHA-256 comes from WebCrypto (`crypto.subtle.digest`): native code even in Tor Browser's
 * Safer level (no JIT, no WebAssembly), so the page hashes at a speed comparable to an
 * attacker's native code. Each digest is a promise; many are awaited together (a batch) so
 * the per-call cost overlaps. Only where WebCrypto is missing (a page served over plain HTTP
 * outside localhost and .onion is not a secure context) does it fall back to noble's pure-JS
 * SHA-256, many times slower.
 */
import { nobleSha256 } from '../../crypto/noble.ts';
import { solvePowV2, type Sha256Batch } from '../../crypto/v2/pow.ts';

/** Digests awaited together: enough to hide the per-call cost, small enough for smooth progress. */
const BATCH = 256;

const subtle = (self.crypto as Crypto | undefined)?.subtle;

const webCrypto: Sha256Batch = (inputs) =>
  Promise.all(inputs.map(async (input) => new Uint8Array(await subtle!.digest('SHA-256', input as Uint8Array<ArrayBuffer>))));

const pureJs: Sha256Batch = (inputs) => Promise.resolve(inputs.map(nobleSha256));

self.onmessage = async (event: MessageEvent<{ challenge: Uint8Array; effort: number }>) => {
  try {
    const random = new Uint8Array(4);
    self.crypto.getRandomValues(random);
    const solution = await solvePowV2(subtle ? webCrypto : pureJs, event.data.challenge, event.data.effort, {
      batch: subtle ? BATCH : 64,
      randomPrefix: random,
      // Expected work is 2^effort; the estimate approaches but never claims 100%.
      onProgress: (tried, expected) => self.postMessage({ progress: 1 - Math.exp(-tried / expected) }),
    });
    self.postMessage({ nonce: solution.nonce, effort: solution.effort, webCrypto: subtle !== undefined });
  } catch {
    self.postMessage({ error: true });
  }
};
