import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { connectionBudgets, NON_SOCKET_RESERVE, openFileLimit } from './connection-limits.ts';

describe('connection budgets near the open-file limit', () => {
  const limits = loadConfig({}).connections;

  it('keeps both defaults when the open-file limit holds them', () => {
    expect(connectionBudgets(limits, 65536)).toEqual({ requester: 8192, triage: 1024, loweredFrom: null, openFileLimit: 65536 });
  });

  it('lowers the requester budget first and keeps the triage budget whole', () => {
    const budgets = connectionBudgets(limits, 4096);
    expect(budgets.triage).toBe(1024);
    expect(budgets.requester).toBe(4096 - 1024 - NON_SOCKET_RESERVE);
    expect(budgets.loweredFrom).toBe(8192);
  });

  it('reads the limit of this process on Linux', () => {
    if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
  });
});
