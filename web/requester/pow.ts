/**
 * The page's side of the proof of work (PROTOCOL.md 15.2, 20.2): fetch a challenge, solve it
 * in the worker at the effort the server suggests, send, and when the server answers that the
 * proof is no longer enough, solve a fresh challenge with more effort and send again.
 *
 * The server decides the difficulty when a submission ARRIVES. While the intake is flooded it
 * serves the most work first, so an honest person who keeps trying gets through: every retry
 * aims at least one bit higher than the last (twice the work), and never below what the server
 * now suggests. A flooder can outbid that only by paying the same price for every one of the
 * thousands of submissions it needs to keep the intake full.
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { POW_V2_MAX_EFFORT } from '../../crypto/v2/pow.ts';
import { api, ApiError } from './api.ts';

declare const __WORKER_URLS__: Record<string, string>;

/** The `pow` field of a submission. */
export interface PowField {
  challenge: string;
  effort: number;
  nonce: string;
}

/** Fresh challenges solved for one submission before the page gives up and says so. */
const MAX_ATTEMPTS = 8;

/** Answers that mean "solve again": more effort needed, or the challenge ran out. */
const RESOLVE = new Set(['proof_too_weak', 'proof_outranked', 'proof_expired']);

function solveInWorker(challenge: Uint8Array, effort: number, progress: HTMLProgressElement): Promise<Uint8Array> {
  progress.hidden = false;
  progress.value = 0;
  return new Promise((resolve, reject) => {
    const worker = new Worker(__WORKER_URLS__['pow-worker']!);
    worker.onmessage = (event: MessageEvent<{ progress?: number; nonce?: Uint8Array; error?: true }>) => {
      if (event.data.progress !== undefined) progress.value = event.data.progress;
      if (event.data.nonce || event.data.error) {
        worker.terminate();
        if (event.data.nonce) {
          progress.value = 1;
          resolve(event.data.nonce);
        } else {
          reject(new ApiError(0, 'worker'));
        }
      }
    };
    worker.onerror = () => {
      worker.terminate();
      reject(new ApiError(0, 'worker'));
    };
    worker.postMessage({ challenge, effort });
  });
}

/**
 * Fetches a challenge and solves it at `atLeast` or the server's suggested effort, whichever is
 * higher; `extraBits` above the server's numbers for a submission that stores more (attachments).
 */
export async function proveWork(progress: HTMLProgressElement, atLeast = 0, extraBits = 0): Promise<PowField> {
  const offer = await api<{ challenge: string; difficulty: number; effort: number }>('/api/v1/pow/challenge');
  const effort = Math.min(POW_V2_MAX_EFFORT, Math.max(offer.effort + extraBits, offer.difficulty + extraBits, atLeast));
  const nonce = await solveInWorker(base64urlDecode(offer.challenge), effort, progress);
  return { challenge: offer.challenge, effort, nonce: base64urlEncode(nonce) };
}

/**
 * Proves work and calls `send` with the proof; on `proof_too_weak`, `proof_outranked` or
 * `proof_expired` solves a fresh challenge one bit harder than the last and sends again.
 * `onRetry` lets the page say what is happening; `extraBits` is what attachments cost (10.2).
 * @throws the last ApiError when `send` fails otherwise, or after MAX_ATTEMPTS challenges.
 */
export async function sendWithProof<T>(progress: HTMLProgressElement, send: (pow: PowField) => Promise<T>, onRetry?: () => void, extraBits = 0): Promise<T> {
  let last = 0;
  let notBefore = 0;
  for (let attempt = 1; ; attempt++) {
    const pow = await proveWork(progress, attempt === 1 ? 0 : last + 1, extraBits);
    last = pow.effort;
    // A saturated intake asks for a second's pause (Retry-After); the solving counts toward it.
    const wait = notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      return await send(pow);
    } catch (err) {
      if (!(err instanceof ApiError && RESOLVE.has(err.code)) || attempt >= MAX_ATTEMPTS) throw err;
      if (err.code === 'proof_outranked') notBefore = Date.now() + 1000;
      onRetry?.();
    }
  }
}
