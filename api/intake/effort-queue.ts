/**
 * The intake's admission queue, ordered by proof-of-work effort (Tor's onion-service proof of
 * work does the same with introduction requests).
 *
 * A submission whose proof checked asks for a slot with the effort its proof states. While
 * fewer than `concurrency` submissions are being stored (and, when a rate is set, the rate
 * allows one more), it goes straight in. Otherwise it waits in a bounded list ordered by
 * effort, highest first, first come first served within one effort. When the list is full,
 * a newcomer with more effort than the lowest waiter takes that waiter's place (the waiter is
 * answered `proof_outranked`); a newcomer with no more effort than every waiter is answered
 * `proof_outranked` at once. A waiter that waits longer than `maxWaitMs` is answered the same.
 *
 * Why: a flooder with native code can always produce more low-effort proofs than the intake
 * can store. Served in arrival order, an honest person would be one among thousands of
 * flooders' submissions; served by effort, one solution with more work than the flooder can
 * afford at the flooder's volume goes first. The flooder can hold the bar at effort e only by
 * keeping the list full with effort-e work as fast as the intake drains it: `capacity * 2^e`
 * hashes a second, every second.
 *
 * Nothing here knows who sent what: an entry is an effort, an arrival number and a callback.
 */
import { AppError } from '../errors.ts';

/** The answer to a submission the queue dropped; `effort` is what would have been enough. */
export class OutrankedError extends AppError {
  constructor(readonly effort: number) {
    super('proof_outranked', 'The intake is saturated and other submissions carried more work; solve a new challenge at the suggested effort.', 503);
  }
  get retryAfterSeconds(): number {
    return 1;
  }
  override get details() {
    return { effort: this.effort };
  }
}

export interface EffortQueueOptions {
  /** Submissions stored at the same time (admitted, not yet released). */
  concurrency: number;
  /** Submissions allowed to wait for a slot. */
  maxWaiting: number;
  /** How long one may wait before it is dropped. */
  maxWaitMs: number;
  /** Admissions per second (a token bucket with one second of burst); 0: no rate, only `concurrency`. */
  perSecond?: number;
  /** How long a drop keeps counting in `recentBar` (the suggested effort). */
  memoryMs?: number;
  now?: () => number;
}

interface Waiter {
  effort: number;
  seq: number;
  admit: () => void;
  drop: (err: OutrankedError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export type Release = () => void;

export interface EffortQueueStats {
  admitted: number;
  dropped: number;
  waiting: number;
  inFlight: number;
}

export class EffortQueue {
  readonly #o: Required<EffortQueueOptions>;
  /** Sorted: effort descending, then arrival ascending. The last entry is the first to drop. */
  #waiting: Waiter[] = [];
  #inFlight = 0;
  #seq = 0;
  #tokens: number;
  #tokensAt: number;
  #wake: ReturnType<typeof setTimeout> | null = null;
  /** Recent drops as [time, effort]: the efforts that were not enough a moment ago. */
  #drops: [number, number][] = [];
  #admitted = 0;
  #dropped = 0;

  constructor(options: EffortQueueOptions) {
    this.#o = { perSecond: 0, memoryMs: 30_000, now: Date.now, ...options };
    if (this.#o.concurrency < 1 || this.#o.maxWaiting < 0 || this.#o.perSecond < 0) throw new RangeError('bad effort queue options');
    this.#tokens = Math.max(1, this.#o.perSecond);
    this.#tokensAt = this.#o.now();
  }

  /**
   * Waits for a slot. Resolves to the function that gives the slot back (call it exactly once,
   * when the submission is stored or failed).
   * @throws OutrankedError when dropped (now, later by a higher effort, or after maxWaitMs).
   */
  admit(effort: number): Promise<Release> {
    if (this.#waiting.length === 0 && this.#canStart()) return Promise.resolve(this.#start());
    const full = this.#waiting.length >= this.#o.maxWaiting;
    const lowest = this.#waiting.at(-1);
    if (full && (!lowest || effort <= lowest.effort)) return Promise.reject(this.#dropNote(effort));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        effort,
        seq: this.#seq++,
        admit: () => resolve(this.#start()),
        drop: reject,
        timer: setTimeout(() => this.#remove(waiter), this.#o.maxWaitMs),
      };
      waiter.timer.unref?.();
      if (full) this.#remove(this.#waiting.at(-1)!);
      this.#insert(waiter);
      this.#pump();
    });
  }

  /**
   * The least effort that can get in right now: 0 while there is room to wait; when the list
   * is full, one more than its lowest effort (a newcomer must beat the lowest waiter).
   */
  bar(): number {
    if (this.#waiting.length < this.#o.maxWaiting) return 0;
    const lowest = this.#waiting.at(-1);
    return lowest ? lowest.effort + 1 : 0;
  }

  /** One more than the highest effort dropped within `memoryMs` (0 when none): what would have been enough lately. */
  recentBar(): number {
    const cutoff = this.#o.now() - this.#o.memoryMs;
    while (this.#drops.length > 0 && this.#drops[0]![0] < cutoff) this.#drops.shift();
    let bar = 0;
    for (const [, effort] of this.#drops) bar = Math.max(bar, effort + 1);
    return Math.max(bar, this.bar());
  }

  stats(): EffortQueueStats {
    return { admitted: this.#admitted, dropped: this.#dropped, waiting: this.#waiting.length, inFlight: this.#inFlight };
  }

  #insert(w: Waiter): void {
    // Binary search for the first entry of lower effort: equal efforts keep arrival order.
    let lo = 0;
    let hi = this.#waiting.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#waiting[mid]!.effort >= w.effort) lo = mid + 1;
      else hi = mid;
    }
    this.#waiting.splice(lo, 0, w);
  }

  /** Drops a waiter (timeout or eviction). */
  #remove(w: Waiter): void {
    const i = this.#waiting.indexOf(w);
    if (i < 0) return;
    this.#waiting.splice(i, 1);
    clearTimeout(w.timer);
    w.drop(this.#dropNote(w.effort));
  }

  #dropNote(effort: number): OutrankedError {
    this.#dropped++;
    this.#drops.push([this.#o.now(), effort]);
    if (this.#drops.length > 4096) this.#drops.splice(0, this.#drops.length - 4096);
    return new OutrankedError(Math.max(effort + 1, this.bar()));
  }

  #refill(): void {
    if (this.#o.perSecond === 0) return;
    const now = this.#o.now();
    this.#tokens = Math.min(Math.max(1, this.#o.perSecond), this.#tokens + ((now - this.#tokensAt) / 1000) * this.#o.perSecond);
    this.#tokensAt = now;
  }

  #canStart(): boolean {
    if (this.#inFlight >= this.#o.concurrency) return false;
    this.#refill();
    return this.#o.perSecond === 0 || this.#tokens >= 1;
  }

  #start(): Release {
    this.#inFlight++;
    this.#admitted++;
    if (this.#o.perSecond > 0) this.#tokens -= 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      this.#pump();
    };
  }

  /** Admits waiters, highest effort first, while there is room; sleeps until the next token. */
  #pump(): void {
    while (this.#waiting.length > 0 && this.#canStart()) {
      const next = this.#waiting.shift()!;
      clearTimeout(next.timer);
      next.admit();
    }
    if (this.#waiting.length > 0 && this.#inFlight < this.#o.concurrency && this.#o.perSecond > 0 && this.#wake === null) {
      const ms = Math.max(1, Math.ceil(((1 - this.#tokens) / this.#o.perSecond) * 1000));
      this.#wake = setTimeout(() => {
        this.#wake = null;
        this.#pump();
      }, ms);
      this.#wake.unref?.();
    }
  }
}
