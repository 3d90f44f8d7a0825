/**
 * Wires the notifier into the server's lifecycle: nothing runs (and intake signals are
 * dropped at once) unless HAVEN_SMTP_URL is set. @returns stop(), which api/server.ts awaits
 * on SIGTERM after the sites close and before the database does.
 */
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { watchActivity } from './activity.ts';
import { smtpMailerFactory } from './mailer.ts';
import { flushToDatabase, startNotifierJob } from './notifier.service.ts';

export function startNotifications(deps: { db: Kysely<Database>; crypto: Primitives; serverSecret: Uint8Array; config: Pick<Config, 'notify'>; logger: Logger }): () => Promise<void> {
  const { smtpUrl, from } = deps.config.notify;
  if (smtpUrl === null || from === null) return async () => {};
  const job = startNotifierJob(
    {
      db: deps.db,
      crypto: deps.crypto,
      serverSecret: deps.serverSecret,
      watch: watchActivity(deps.db, { flush: flushToDatabase(deps.db), onError: (err) => deps.logger.warn('notify_flush_failed', { kind: err instanceof Error ? err.name : 'unknown' }) }),
      mailer: smtpMailerFactory({ ...deps.config.notify, smtpUrl, from }),
      logger: deps.logger,
    },
    deps.config.notify.intervalMinutes * 60_000,
  );
  deps.logger.info('notify_started', { intervalMinutes: deps.config.notify.intervalMinutes });
  return () => job.stop();
}
