/**
 * Solves a proof-of-work challenge (v2, crypto/v2/pow.ts) off the main thread, so the page
 * stays responsive and can show progress. Messages: in `{challenge, effort}`; out `{progress}`
 * (0..1, an estimate) and finally `{nonce, effort}`, or `{error}`. The search itself is the
 * solver both sites share (web/shared/pow-solver.ts: WebCrypto SHA-256, noble without it).
 */
import { solvePowInBrowser } from '../shared/pow-solver.ts';

self.onmessage = async (event: MessageEvent<{ challenge: Uint8Array; effort: number }>) => {
  try {
    const solution = await solvePowInBrowser(event.data.challenge, event.data.effort, (progress) => self.postMessage({ progress }));
    self.postMessage({ nonce: solution.nonce, effort: solution.effort, webCrypto: solution.webCrypto });
  } catch {
    self.postMessage({ error: true });
  }
};
