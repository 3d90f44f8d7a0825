import { describe, expect, it } from 'vitest';
import { EffortQueue, OutrankedError } from './effort-queue.ts';

/** Records the order in which waiters get their slot. */
function track(queue: EffortQueue, effort: number, log: (number | string)[], label: number | string = effort) {
  return queue.admit(effort).then(
    (release) => {
      log.push(label);
      return release;
    },
    (err: unknown) => {
      log.push(`dropped ${label}`);
      throw err;
    },
  );
}

const settle = () => new Promise((r) => setImmediate(r));

describe('effort queue', () => {
  it('admits at once while there is room', async () => {
    const q = new EffortQueue({ concurrency: 2, maxWaiting: 2, maxWaitMs: 1000 });
    const a = await q.admit(0);
    const b = await q.admit(0);
    expect(q.stats()).toMatchObject({ inFlight: 2, waiting: 0 });
    a();
    a(); // a second release is ignored
    b();
    expect(q.stats()).toMatchObject({ inFlight: 0, admitted: 2 });
  });

  it('serves higher effort first, arrival order within one effort', async () => {
    const q = new EffortQueue({ concurrency: 1, maxWaiting: 10, maxWaitMs: 10_000 });
    const log: (number | string)[] = [];
    const busy = await q.admit(0);
    // Each waiter logs when admitted and gives its slot back at once, letting the next one in.
    const waiters = [[3, '3a'], [9, 9], [3, '3b'], [5, 5]].map(([effort, label]) => track(q, effort as number, log, label!).then((release) => release()));
    busy();
    await Promise.all(waiters);
    expect(log).toEqual([9, 5, '3a', '3b']);
  });

  it('when full, a higher effort takes the lowest waiter\'s place; an equal or lower one is dropped at once', async () => {
    const q = new EffortQueue({ concurrency: 1, maxWaiting: 2, maxWaitMs: 10_000 });
    const log: (number | string)[] = [];
    const busy = await q.admit(0);
    const low = track(q, 4, log, 'low').catch((e: unknown) => e);
    const mid = track(q, 6, log, 'mid');
    expect(q.bar()).toBe(5);
    // The flooder's equal effort cannot push anyone out.
    await expect(q.admit(4)).rejects.toMatchObject({ code: 'proof_outranked', status: 503, effort: 5 });
    // The honest person's higher effort can.
    const honest = track(q, 7, log, 'honest');
    expect(await low).toBeInstanceOf(OutrankedError);
    expect(q.bar()).toBe(7);
    busy();
    (await honest)();
    (await mid)();
    expect(log).toEqual(['dropped low', 'honest', 'mid']);
    expect(q.stats()).toMatchObject({ dropped: 2, waiting: 0, inFlight: 0 });
  });

  it('drops a waiter after maxWaitMs, so nobody waits forever', async () => {
    const q = new EffortQueue({ concurrency: 1, maxWaiting: 5, maxWaitMs: 30 });
    const busy = await q.admit(0);
    await expect(q.admit(3)).rejects.toBeInstanceOf(OutrankedError);
    busy();
    expect(q.stats().waiting).toBe(0);
  });

  it('with a rate, admits at most that many a second and wakes waiters as tokens return', async () => {
    let now = 0;
    const q = new EffortQueue({ concurrency: 100, maxWaiting: 10, maxWaitMs: 10_000, perSecond: 2, now: () => now });
    (await q.admit(0))();
    (await q.admit(0))();
    const log: (number | string)[] = [];
    const third = track(q, 1, log);
    await settle();
    expect(log).toEqual([]);
    now += 500; // one token back
    const r = await third;
    r();
    expect(log).toEqual([1]);
  });

  it('recentBar remembers drops for memoryMs, then forgets', async () => {
    let now = 0;
    const q = new EffortQueue({ concurrency: 1, maxWaiting: 0, maxWaitMs: 1000, memoryMs: 10_000, now: () => now });
    const busy = await q.admit(0);
    await expect(q.admit(8)).rejects.toBeInstanceOf(OutrankedError);
    busy();
    expect(q.recentBar()).toBe(9);
    now += 10_001;
    expect(q.recentBar()).toBe(0);
  });
});
