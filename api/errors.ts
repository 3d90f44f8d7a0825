/**
 * One error model for the whole API: a closed set of codes, `AppError` subclasses only,
 * mapped to `{error:{code,message}}` in one place (`errorHandler`). Messages are fixed
 * text written by us; never a token, key, ciphertext or user-supplied text.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from './logger.ts';

export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unsupported_version',
  'unknown_version',
  'malformed',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  // first-run setup (POST /api/v1/setup) after an organisation exists: the link is dead for good
  'already_set_up',
  // first-run setup with a token that is not the one this server printed (its own code, so the
  // page can tell a wrong link from a refused origin, which is `forbidden` too)
  'setup_link_wrong',
  // a thread message signed for a position another message took first: re-fetch, re-sign, resend
  'position_taken',
  // retiring an epoch that records still use: finish the re-wrap first
  'rewrap_incomplete',
  'payload_too_large',
  // attachments (PROTOCOL.md 10.2): more files than a request may carry; one file over its size;
  // all files together over theirs. Nothing is written; the page says which before sending.
  'too_many_attachments',
  'attachment_too_large',
  'attachments_too_large',
  'unsupported_media_type',
  'proof_required',
  'proof_invalid',
  'proof_replayed',
  // the proof's effort is below what the intake requires now (it rose since the challenge was fetched)
  'proof_too_weak',
  // the challenge's lifetime (5 minutes) ended before it was submitted
  'proof_expired',
  // the intake is saturated and waiting submissions carried more work: solve again at more effort
  'proof_outranked',
  // WebAuthn: the session has no open challenge for this ceremony (none asked, expired, already answered): ask again
  'challenge_expired',
  // WebAuthn: the passkey's answer does not verify (origin, RP ID, signature, counter, not this account's)
  'passkey_rejected',
  'rate_limited',
  'request_timeout',
  'unavailable',
  'misconfigured',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: ContentfulStatusCode,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /**
   * Numbers a client needs to act on the error (the proof-of-work difficulty it must reach),
   * sent beside `code` and `message`. Never user data: numbers the server chose.
   */
  get details(): Readonly<Record<string, number>> | undefined {
    return undefined;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, code: ErrorCode = 'validation_failed') {
    super(code, message, 400);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in first.') {
    super('unauthorized', message, 401);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You do not have access to this.') {
    super('forbidden', message, 403);
  }
}
export class NotFoundError extends AppError {
  constructor(message = 'Not found.') {
    super('not_found', message, 404);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super('conflict', message, 409);
  }
}
/** First-run setup with a token this server did not print: nothing is looked at, nothing written. */
export class SetupLinkWrongError extends AppError {
  constructor(message = 'This setup link is wrong. Use the link the server printed on its console.') {
    super('setup_link_wrong', message, 403);
  }
}
/** First-run setup once any organisation exists: nothing is written, and no link will work again. */
export class AlreadySetUpError extends AppError {
  constructor(message = 'This hotline is already set up; the setup link works only once, before any organisation exists.') {
    super('already_set_up', message, 409);
  }
}
/**
 * A v2 thread message names a position that is not the thread's next one (max + 1), usually
 * because another message landed first. The position is inside the signature, so the server
 * cannot renumber it: the client re-fetches the thread, re-signs at the new position, resends.
 */
export class PositionTakenError extends AppError {
  constructor(message = 'Another message was added to this thread first; reload it and send again.') {
    super('position_taken', message, 409);
  }
}
/**
 * An old epoch cannot be retired while any request or message of the team is still wrapped
 * to it: retiring deletes the epoch's grants, and such a record would then open for nobody.
 */
export class RewrapIncompleteError extends AppError {
  constructor(readonly remaining: number) {
    super('rewrap_incomplete', `${remaining} records still use this epoch; finish the re-wrap first.`, 409);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(message = 'The request body is too large.') {
    super('payload_too_large', message, 413);
  }
}
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', message, 429);
  }
}
export class UnavailableError extends AppError {
  constructor(
    message = 'The service is briefly unavailable. Please try again shortly.',
    readonly retryAfterSeconds = 5,
  ) {
    super('unavailable', message, 503);
  }
}

/**
 * The deployment's configuration contradicts its database (the root public key is missing or
 * belongs to another organisation). Only an operator can fix it, so clients are told to
 * come back much later; the message names the setting, never a key.
 */
export class MisconfiguredError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 60,
  ) {
    super('misconfigured', message, 503);
  }
}

/**
 * The client closed its connection before its request body had fully arrived (an aborted
 * upload, a tab closed mid-send, a flood client). Nobody is left to read the answer; it is
 * mapped here so it is never mistaken for a database outage: the body stream's error carries
 * `ECONNRESET`, the same code a broken database socket has.
 */
export class ClientAbortedError extends AppError {
  constructor() {
    super('bad_request', 'The request body was not received completely.', 400);
  }
}

/**
 * True when the client's side of the connection is gone before its request was complete.
 * On @hono/node-server the Node request is `c.env.incoming`; elsewhere (`app.request()` in
 * tests) the Request's abort signal says the same.
 */
export function clientWentAway(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && typeof incoming.complete === 'boolean') {
    return !incoming.complete && (incoming.readableAborted || incoming.destroyed || incoming.errored !== null);
  }
  return c.req.raw.signal?.aborted === true;
}

/**
 * Error codes and messages of node-postgres and PGlite that mean "the database is not
 * reachable right now". Besides socket errors and SQLSTATE classes 08 (connection) and 57P
 * (shutdown), node-postgres has message-only errors: a client whose connection broke
 * between two queries of a transaction fails its next query (or the rollback, which then
 * replaces the original error) with "...is not queryable", and a pool that cannot connect
 * in time says "timeout exceeded when trying to connect". 53300: too many connections.
 */
const DATABASE_DOWN =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Connection terminated|is not queryable|timeout exceeded when trying to connect|57P01|57P02|57P03|08000|08003|08006|08001|08004|53300/;

function isDatabaseDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return DATABASE_DOWN.test(String(code ?? '')) || DATABASE_DOWN.test(err.message);
}

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/** Maps any thrown value to the one JSON error shape. Unknown errors log their class only. */
export function errorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError) {
      const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
      const body = errorBody(err.code, err.message);
      return c.json(err.details ? { error: { ...body.error, ...err.details } } : body, err.status);
    }
    if (clientWentAway(c)) {
      // Neutral and at debug level: a flood of aborted uploads must not become a flood of
      // log lines, and the line names no client (there is nothing to name one by anyway).
      logger.debug('client_aborted', { route: c.req.routePath });
      const aborted = new ClientAbortedError();
      return c.json(errorBody(aborted.code, aborted.message), aborted.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      if (status === 413) return c.json(errorBody('payload_too_large', 'The request body is too large.'), 413);
      if (status === 401) return c.json(errorBody('unauthorized', 'Sign in first.'), 401);
      if (status < 500) return c.json(errorBody('bad_request', 'The request could not be understood.'), status);
    }
    if (isCryptoError(err)) {
      return c.json(errorBody(err.code, cryptoMessage(err.code)), 400);
    }
    if (isDatabaseDown(err)) {
      logger.warn('database_unavailable', { route: c.req.routePath });
      c.header('Retry-After', '5');
      return c.json(errorBody('unavailable', 'The service is briefly unavailable. Please try again shortly.'), 503);
    }
    // Only the class name: messages from drivers can quote the values that failed.
    logger.error('unhandled_error', { route: c.req.routePath, kind: err.name });
    return c.json(errorBody('internal', 'Something went wrong on our side.'), 500);
  };
}

/** Errors from crypto/ decoders carry a code from this set; they are the client's fault. */
const CRYPTO_CODES = new Set(['unknown_version', 'unsupported_version', 'malformed', 'decryption_failed', 'bad_signature', 'weak_input']);

function isCryptoError(err: Error): err is Error & { code: ErrorCode } {
  const code = (err as { code?: unknown }).code;
  return err.name.endsWith('Error') && typeof code === 'string' && CRYPTO_CODES.has(code) && code in CRYPTO_MESSAGES;
}

const CRYPTO_MESSAGES: Record<string, string> = {
  unknown_version: 'This data uses a format version this server does not know.',
  unsupported_version: 'This data uses a format version that is no longer accepted.',
  malformed: 'This data is malformed.',
};

function cryptoMessage(code: string): string {
  return CRYPTO_MESSAGES[code] ?? 'This data is malformed.';
}
