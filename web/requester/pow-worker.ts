/**
 * Solves the proof-of-work challenge off the main thread so the page stays responsive and
 * can show progress. Messages: in `{challenge}`; out `{progress}` (0..1, an estimate)
 * and finally `{nonce}`.
 */
import { noblePrimitives } from '../../crypto/noble.ts';
import { solvePow } from '../../crypto/v1/pow.ts';

self.onmessage = (event: MessageEvent<{ challenge: Uint8Array }>) => {
  const nonce = solvePow(noblePrimitives, event.data.challenge, (tried, expected) => {
    // Expected work is 2^difficulty; the estimate approaches but never claims 100%.
    self.postMessage({ progress: 1 - Math.exp(-tried / expected) });
  });
  self.postMessage({ nonce });
};
