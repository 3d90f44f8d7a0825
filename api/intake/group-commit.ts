/**
 * Group commit: callers that arrive while a write is in flight queue up and are written
 * together by one `writeBatch` call (one transaction, one durable commit), and each caller's
 * promise settles only after that call returns, so after the shared commit.
 *
 * Why: a durable commit (WAL flush) per submission is the ceiling of a naive intake (see
 * docs/BENCHMARKS.md); sharing one commit among every submission that arrived meanwhile
 * removes it without answering anyone before their row is on disk.
 *
 * No timer when idle: a lone caller is written on the next turn of the event loop, so grouping
 * adds no latency when idle and batches grow only with load. Under load, fewer and larger
 * batches cost the database less per item (each batch is parsed, locked and committed once), so
 * the overlap options let a second batch start beside a running one only once it is large
 * enough to be worth its own commit, or the running one is slow (a stalled commit then holds
 * up nobody for long). `writeBatch` returns one outcome per item, in order, so one bad item
 * (a replayed proof, a duplicate id) fails only its caller.
 */

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Largest batch handed to one `writeBatch` call (bounds statement size and parameters). */
  maxBatch?: number;
  /** Batches written at the same time (each holds one database connection). */
  maxInFlight?: number;
  /**
   * While a batch is in flight, the next one waits for a free slot until it holds
   * `overlapAtItems` items (default `maxBatch`) or the batch that started last has run
   * `overlapAfterMs` milliseconds (default 0: it never waits).
   */
  overlapAfterMs?: number;
  overlapAtItems?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #writeBatch: (items: readonly T[]) => Promise<Outcome<R>[]>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #overlapAfterMs: number;
  readonly #overlapAtItems: number;
  #queue: Waiting<T, R>[] = [];
  #inFlight = 0;
  /** When the most recent batch started (performance.now()). */
  #lastStart = 0;
  #immediate = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(writeBatch: (items: readonly T[]) => Promise<Outcome<R>[]>, options: GroupCommitOptions = {}) {
    this.#writeBatch = writeBatch;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.#overlapAfterMs = Math.max(0, options.overlapAfterMs ?? 0);
    this.#overlapAtItems = Math.max(1, Math.min(this.#maxBatch, options.overlapAtItems ?? this.#maxBatch));
  }

  /**
   * Queues one item; settles once the batch holding it has been written.
   * @throws whatever `writeBatch` reported for this item, or threw for the whole batch.
   */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Items waiting for a batch (for tests and metrics). */
  get pending(): number {
    return this.#queue.length;
  }

  /** How long the next partial batch must still wait for a slot beside the in-flight ones (0: none). */
  #overlapWait(): number {
    if (this.#inFlight === 0 || this.#queue.length >= this.#overlapAtItems) return 0;
    return Math.max(0, this.#lastStart + this.#overlapAfterMs - performance.now());
  }

  #schedule(): void {
    if (this.#queue.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    const wait = this.#overlapWait();
    if (wait > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#schedule();
      }, wait);
      return;
    }
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#immediate) return;
    this.#immediate = true;
    // setImmediate, not a microtask: every request parsed in this turn of the loop joins.
    setImmediate(() => {
      this.#immediate = false;
      while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
        if (this.#overlapWait() > 0) return this.#schedule();
        this.#start(this.#queue.splice(0, this.#maxBatch));
      }
    });
  }

  #start(batch: Waiting<T, R>[]): void {
    this.#inFlight++;
    this.#lastStart = performance.now();
    let written: Promise<Outcome<R>[]>;
    try {
      written = this.#writeBatch(batch.map((w) => w.item));
    } catch (err) {
      written = Promise.reject(err);
    }
    void written
      .then((outcomes) => {
        if (outcomes.length !== batch.length) throw new Error('group commit: one outcome per item expected');
        batch.forEach((w, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) w.resolve(outcome.value);
          else w.reject(outcome.error);
        });
      })
      // A batch that failed as a whole fails each of its callers (settled ones ignore it).
      .catch((err: unknown) => {
        for (const w of batch) w.reject(err);
      })
      .finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
  }
}
