/**
 * The notifier: on a fixed, coarse schedule, tells every opted-in member of a team that
 * received something since the last batch, with one fixed e-mail each (mailer.ts).
 *
 * Why batches on wall-clock boundaries (every N minutes since the epoch, N from
 * HAVEN_NOTIFY_INTERVAL_MINUTES): an e-mail's arrival then says only "something came in
 * during the last N minutes", the same on every instance, and one account gets at most one
 * e-mail per batch however many requests arrived.
 *
 * A batch: hand this instance's last in-memory signals (activity.ts) to the database as
 * pending flags, claim pending flags (each instance claims disjoint rows, see
 * notification.repository.ts claimPending), send, and set the flag again for any e-mail
 * that failed, so it is retried at the next batch. Logs carry counts and error codes only,
 * never an address (an SMTP error message may quote one).
 */
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ActivityWatch } from './activity.ts';
import { AddressBoxError, addressKey, openAddress } from './address-box.ts';
import { failureKind, isConnectionFailure, type MailerFactory } from './mailer.ts';
import * as repo from './notification.repository.ts';

const CLAIM_PAGE = 200;

export interface BatchResult {
  sent: number;
  /** e-mails that failed and will be retried next batch */
  failed: number;
  /** addresses that no longer open (HAVEN_SERVER_SECRET changed): dropped until set again */
  unreadable: number;
}

export interface NotifierDeps {
  db: Kysely<Database>;
  crypto: Primitives;
  serverSecret: Uint8Array;
  /** This instance's signals, flushed before claiming; null when another owner flushes them. */
  watch: ActivityWatch | null;
  mailer: MailerFactory;
  logger: Logger;
  /** Checked between e-mails: once true, the rest of the batch is put back for the next one. */
  stopping?: () => boolean;
}

/** The watch's flush: sets the pending flags of the teams' opted-in members. */
export function flushToDatabase(db: Kysely<Database>): (teamIds: Uint8Array[]) => Promise<void> {
  return async (teamIds) => {
    await repo.markTeamsPending(db, teamIds);
  };
}

/** Runs one batch. @throws only database errors (unflushed signals are kept). */
export async function runNotifyBatch(d: NotifierDeps): Promise<BatchResult> {
  const result: BatchResult = { sent: 0, failed: 0, unreadable: 0 };
  await d.watch?.flushNow();
  const key = addressKey(d.crypto, d.serverSecret);
  const retry: Uint8Array[] = [];
  let mailer: ReturnType<MailerFactory> | null = null;
  let down = false;
  try {
    for (;;) {
      const claimed = await repo.claimPending(d.db, CLAIM_PAGE);
      if (claimed.length === 0) break;
      for (const s of claimed) {
        if (down || d.stopping?.()) {
          retry.push(s.accountId);
          continue;
        }
        let address: string;
        try {
          address = openAddress(d.crypto, key, s.accountId, s.addressSealed);
        } catch (err) {
          if (!(err instanceof AddressBoxError)) throw err;
          result.unreadable += 1;
          continue;
        }
        try {
          mailer ??= d.mailer();
          await mailer.send(address);
          result.sent += 1;
        } catch (err) {
          result.failed += 1;
          retry.push(s.accountId);
          d.logger.warn('notify_send_failed', { kind: failureKind(err) });
          // The server is unreachable or refuses us: the rest would fail the same way, each
          // after its own timeout. Put them back for the next batch.
          if (isConnectionFailure(err)) down = true;
        }
      }
    }
  } finally {
    mailer?.close();
    // Not inside the loop: a flag set again there would be claimed again in this batch.
    await repo.restorePending(d.db, retry);
  }
  result.failed = retry.length;
  if (result.unreadable > 0) d.logger.warn('notify_address_unreadable', { count: result.unreadable });
  if (result.sent + result.failed > 0) d.logger.info('notify_batch', { sent: result.sent, failed: result.failed });
  return result;
}

/** Milliseconds from `now` to the next multiple of `intervalMs` since the epoch (at least 1). */
export function untilNextBoundary(now: number, intervalMs: number): number {
  return intervalMs - (now % intervalMs) || intervalMs;
}

export interface NotifierJob {
  /** Stops the schedule and waits for a batch in flight (it puts back what it did not send). */
  stop(): Promise<void>;
  /** Runs a batch now (tests, and nothing else); resolves when it is done. */
  runNow(): Promise<BatchResult | null>;
}

/** Starts the schedule. Failures are logged by class only and retried at the next boundary. */
export function startNotifierJob(d: Omit<NotifierDeps, 'stopping'>, intervalMs: number): NotifierJob {
  let stopped = false;
  let inFlight: Promise<BatchResult | null> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const tick = (): Promise<BatchResult | null> => {
    if (inFlight) return inFlight;
    inFlight = (async () => {
      try {
        return await runNotifyBatch({ ...d, stopping: () => stopped });
      } catch (err) {
        d.logger.warn('notify_failed', { kind: err instanceof Error ? err.name : 'unknown' });
        return null;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, untilNextBoundary(Date.now(), intervalMs));
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      // Last: the signals noted meanwhile become flags, sent by the next process or instance.
      await d.watch?.stop();
    },
    runNow: tick,
  };
}
