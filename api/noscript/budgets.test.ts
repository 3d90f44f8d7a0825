import { describe, expect, it } from 'vitest';
import { MinuteBudget } from './budgets.ts';

describe('MinuteBudget', () => {
  it('gives out perMinute slots in any 60 seconds, and a slot again once the oldest is a minute old', () => {
    let now = 1_000_000;
    const budget = new MinuteBudget(2, () => now);
    expect(budget.take()).toBe(true);
    now += 30_000;
    expect([budget.take(), budget.take()]).toEqual([true, false]);
    now += 29_999;
    expect(budget.take()).toBe(false);
    now += 1; // the first slot is a minute old
    expect([budget.take(), budget.take()]).toEqual([true, false]);
  });

  it('takes back a refunded slot', () => {
    const budget = new MinuteBudget(1, () => 5);
    expect(budget.take()).toBe(true);
    budget.refund();
    expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
  });

  it('with a ceiling of 0, admits nothing', () => {
    expect(new MinuteBudget(0).take()).toBe(false);
  });
});
