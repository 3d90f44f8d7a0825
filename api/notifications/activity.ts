/**
 * "Something new for team X": the one signal intake gives the notifier.
 *
 * Intake only notes the team in memory (one line after its commit: no extra statement in
 * the insert path, no lock on a shared row). A watch hands what was noted to the database
 * as pending flags shortly after (`delayMs`, coalesced: a flood of requests costs one
 * UPDATE per delay, per instance) and again right before each batch. Flags rather than
 * memory at the batch boundary, because with several instances every batch must see every
 * instance's signals: the instance that claims first sends for all of them, and each account
 * gets one e-mail per batch.
 *
 * What a crash costs: the signals noted in the last `delayMs`, i.e. that one notification
 * (the request itself is committed and waits in the dashboard as always). Nothing stored
 * says when a team last received something beyond the `created_hour` that already exists.
 *
 * Keyed by the database handle, so two servers in one process (tests) never see each
 * other's signals, and a process that runs no notifier keeps nothing (`note` is a no-op).
 */
const watched = new WeakMap<object, (teamId: Uint8Array) => void>();

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Called by intake after a request or follow-up for `teamId` is committed. Never throws. */
export function noteNewActivity(db: object, teamId: Uint8Array): void {
  watched.get(db)?.(teamId);
}

export interface ActivityWatch {
  /** Hands every signal noted so far to the database now. @throws the flush's error (signals are kept). */
  flushNow(): Promise<void>;
  /** Stops collecting, after a last flush (errors then are reported to `onError`). */
  stop(): Promise<void>;
}

export interface WatchOptions {
  /** Writes the teams' pending flags; a failure keeps the signals for the next attempt. */
  flush(teamIds: Uint8Array[]): Promise<void>;
  /** How long a signal waits to be coalesced with others before it is written. */
  delayMs?: number;
  onError?(err: unknown): void;
}

/** Starts collecting signals for `db`. One watch per database handle. */
export function watchActivity(db: object, options: WatchOptions): ActivityWatch {
  const teams = new Map<string, Uint8Array>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const flushNow = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    // One flush at a time, in order: a later one never overtakes an earlier one's restore.
    const next = running.then(async () => {
      if (teams.size === 0) return;
      const taken = [...teams.values()];
      teams.clear();
      try {
        await options.flush(taken);
      } catch (err) {
        for (const id of taken) teams.set(hex(id), id);
        throw err;
      }
    });
    running = next.catch(() => {});
    return next;
  };

  const note = (teamId: Uint8Array) => {
    if (stopped) return;
    // A set of team ids, not a queue: a flood costs one entry per team.
    const k = hex(teamId);
    if (!teams.has(k)) teams.set(k, Uint8Array.from(teamId));
    if (timer === null) {
      timer = setTimeout(() => void flushNow().catch((err: unknown) => options.onError?.(err)), options.delayMs ?? 1000);
      timer.unref();
    }
  };
  watched.set(db, note);

  return {
    flushNow,
    async stop() {
      stopped = true;
      if (watched.get(db) === note) watched.delete(db);
      await flushNow().catch((err: unknown) => options.onError?.(err));
    },
  };
}
