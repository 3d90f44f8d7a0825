import { describe, expect, it, vi } from 'vitest';
import { GroupCommit, type Outcome } from './group-commit.ts';

/** A writeBatch whose calls the test releases by hand, recording every batch it was given. */
function controlledWriter<T>() {
  const batches: T[][] = [];
  const releases: (() => void)[] = [];
  const write = (items: readonly T[]): Promise<Outcome<T>[]> => {
    batches.push([...items]);
    return new Promise((resolve) => releases.push(() => resolve(items.map((value) => ({ ok: true as const, value })))));
  };
  return { batches, releases, write };
}

/** Lets queued writes start: a few turns of the event loop. */
async function tick(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('GroupCommit', () => {
  it('writes callers that arrive together in one batch, and a lone caller on its own', async () => {
    const w = controlledWriter<number>();
    const gc = new GroupCommit(w.write);
    const together = [gc.submit(1), gc.submit(2), gc.submit(3)];
    await tick();
    expect(w.batches).toEqual([[1, 2, 3]]);
    w.releases[0]!();
    expect(await Promise.all(together)).toEqual([1, 2, 3]);
    const alone = gc.submit(4);
    await tick();
    expect(w.batches).toEqual([[1, 2, 3], [4]]);
    w.releases[1]!();
    expect(await alone).toBe(4);
  });

  it('answers no caller before its batch is written (the shared commit)', async () => {
    const w = controlledWriter<number>();
    const gc = new GroupCommit(w.write);
    let settled = false;
    const p = gc.submit(1).then(() => (settled = true));
    await tick();
    await tick();
    expect(settled).toBe(false);
    w.releases[0]!();
    await p;
    expect(settled).toBe(true);
  });

  it('queues callers arriving during a write and writes them together next', async () => {
    const w = controlledWriter<number>();
    const gc = new GroupCommit(w.write, { maxInFlight: 1 });
    const first = gc.submit(1);
    await tick();
    const later = [gc.submit(2), gc.submit(3), gc.submit(4)];
    await tick();
    expect(w.batches).toEqual([[1]]);
    expect(gc.pending).toBe(3);
    w.releases[0]!();
    await first;
    await tick();
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    w.releases[1]!();
    expect(await Promise.all(later)).toEqual([2, 3, 4]);
  });

  it('splits at maxBatch and runs up to maxInFlight batches at once', async () => {
    const w = controlledWriter<number>();
    const gc = new GroupCommit(w.write, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => gc.submit(n));
    await tick();
    expect(w.batches).toEqual([[1, 2], [3, 4]]);
    w.releases[0]!();
    await tick();
    expect(w.batches).toEqual([[1, 2], [3, 4], [5]]);
    w.releases[1]!();
    w.releases[2]!();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
  });

  describe('overlapAfterMs', () => {
    it('starts a partial batch beside a running one only once that one has run overlapAfterMs', async () => {
      // The clock and timers are the test's, so a loaded machine cannot make the wait look longer.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      try {
        const w = controlledWriter<number>();
        const gc = new GroupCommit(w.write, { maxInFlight: 2, overlapAfterMs: 150 });
        const first = gc.submit(1);
        await tick();
        const second = gc.submit(2);
        await tick();
        vi.advanceTimersByTime(149);
        await tick();
        expect(w.batches).toEqual([[1]]);
        vi.advanceTimersByTime(1);
        await tick();
        expect(w.batches).toEqual([[1], [2]]);
        w.releases[0]!();
        w.releases[1]!();
        expect(await Promise.all([first, second])).toEqual([1, 2]);
      } finally {
        vi.useRealTimers();
      }
    });

    it('starts the waiting batch at once when the running one finishes first (no wait for the timer)', async () => {
      const w = controlledWriter<number>();
      const gc = new GroupCommit(w.write, { maxInFlight: 2, overlapAfterMs: 10_000 });
      const first = gc.submit(1);
      await tick();
      const later = [gc.submit(2), gc.submit(3)];
      await tick();
      expect(w.batches).toEqual([[1]]);
      w.releases[0]!();
      await first;
      await tick();
      expect(w.batches).toEqual([[1], [2, 3]]);
      w.releases[1]!();
      expect(await Promise.all(later)).toEqual([2, 3]);
    });

    for (const [title, options] of [
      ['a full batch (the default overlapAtItems)', { maxBatch: 2 }],
      ['a batch of overlapAtItems', { maxBatch: 64, overlapAtItems: 2 }],
    ] as const) {
      it(`starts ${title} beside a running one at once; a smaller one waits`, async () => {
        const w = controlledWriter<number>();
        const gc = new GroupCommit(w.write, { ...options, maxInFlight: 2, overlapAfterMs: 10_000 });
        const first = gc.submit(1);
        await tick();
        const big = [gc.submit(2), gc.submit(3)];
        await tick();
        expect(w.batches).toEqual([[1], [2, 3]]);
        const small = gc.submit(4);
        // The small one waits on the batch that started last, still running.
        w.releases[0]!();
        await first;
        await tick();
        expect(w.batches).toEqual([[1], [2, 3]]);
        w.releases[1]!();
        await Promise.all(big);
        await tick();
        expect(w.batches).toEqual([[1], [2, 3], [4]]);
        w.releases[2]!();
        expect(await small).toBe(4);
      });
    }
  });

  it('fails only the caller whose item failed', async () => {
    const gc = new GroupCommit<number, number>(async (items) =>
      items.map((n) => (n === 2 ? { ok: false, error: new Error('replayed') } : { ok: true, value: n * 10 })),
    );
    const results = await Promise.allSettled([gc.submit(1), gc.submit(2), gc.submit(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('replayed'));
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(30);
  });

  it('fails every caller of a batch that failed as a whole, and keeps working afterwards', async () => {
    let calls = 0;
    const gc = new GroupCommit<number, number>(async (items) => {
      if (calls++ === 0) throw new Error('database down');
      return items.map((value) => ({ ok: true, value }));
    });
    const results = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await gc.submit(3)).toBe(3);
  });

  it('fails the batch when the writer miscounts its outcomes', async () => {
    const gc = new GroupCommit<number, number>(async () => [{ ok: true, value: 1 }]);
    const results = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
