/**
 * A local SMTP server for tests (smtp-server on a random loopback port) that keeps every
 * message it receives; `reject` makes it refuse recipients the way a strict or hostile server
 * does, quoting the address back in its error.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string[];
  raw: string;
}

/** A local SMTP server that keeps every message; `reject` makes it refuse recipients. */
export class SmtpSink {
  readonly mails: Mail[] = [];
  reject: ((to: string) => boolean) | null = null;
  readonly server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      // The test speaks plain SMTP (HAVEN_SMTP_REQUIRE_TLS=false); STARTTLS is covered by nodemailer's own suite.
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        // A hostile or strict server quotes the address back in its error: it must not reach a log.
        if (this.reject?.(address.address)) return callback(Object.assign(new Error(`550 <${address.address}> no such user`), { responseCode: 550 }));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  recipients(): string[] {
    return this.mails.flatMap((m) => m.to).sort();
  }
}

/** A port nothing listens on: bind one, note it, close it. */
export async function closedPort(): Promise<number> {
  const sink = await new SmtpSink().start();
  const port = sink.port;
  await sink.stop();
  return port;
}

