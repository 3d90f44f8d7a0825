/**
 * The one e-mail Haven sends, through the organisation's SMTP server (nodemailer).
 *
 * Subject and body are fixed text, identical for every recipient and every batch: no team,
 * no count, no request, no name. What varies is only the To line and what any mail system
 * adds (Date, Message-ID). The SMTP greeting names the From address's domain rather than
 * this machine's host name (nodemailer's default), so the mail provider does not learn it.
 */
import nodemailer from 'nodemailer';
import type { NotifyConfig } from '../config.ts';

export const NOTIFICATION_SUBJECT = 'Something new is waiting in the dashboard';

export function notificationBody(dashboardUrl: string | null): string {
  return [
    'Something new is waiting in the dashboard.',
    '',
    dashboardUrl ? `Sign in to see it: ${dashboardUrl}` : 'Sign in to see it.',
    '',
    'This message is always the same and says nothing else. To stop it, clear your',
    'notification address in the dashboard.',
    '',
  ].join('\n');
}

export interface Mailer {
  /** Sends the fixed notification to one address. @throws the SMTP error (its message may quote the address: never log it). */
  send(to: string): Promise<void>;
  /** Closes the connection; call once per batch. */
  close(): void;
}

export type MailerFactory = () => Mailer;

/** Error codes that mean the server as a whole is unreachable or refuses us: stop the batch. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EAUTH', 'ETLS', 'ECONNREFUSED', 'EPROTOCOL']);

export function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** The error's code or class, for a log line: never its message, which may name the address. */
export function failureKind(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]{1,20}$/.test(code)) return code;
  return err instanceof Error ? err.name : 'unknown';
}

export function smtpMailerFactory(config: NotifyConfig & { smtpUrl: string; from: string }): MailerFactory {
  const from = config.from;
  const heloName = from.slice(from.lastIndexOf('@') + 1);
  const text = notificationBody(config.dashboardUrl);
  return () => {
    const transport = nodemailer.createTransport({
      url: config.smtpUrl,
      pool: true,
      maxConnections: 1,
      name: heloName,
      requireTLS: config.smtpRequireTls,
      // Bounded, so a stalled server delays one batch, never the process's shutdown for long.
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 30_000,
      logger: false,
      debug: false,
    });
    return {
      async send(to) {
        await transport.sendMail({ from, to, subject: NOTIFICATION_SUBJECT, text, disableFileAccess: true, disableUrlAccess: true });
      },
      close() {
        transport.close();
      },
    };
  };
}
