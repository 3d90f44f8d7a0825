/**
 * Coarse time. Haven stores times only to the hour so that a seized database cannot be
 * lined up with network observations; every stored time comes from here.
 */
export function coarseHour(now: Date = new Date()): Date {
  const hour = new Date(now);
  hour.setUTCMinutes(0, 0, 0);
  return hour;
}
