/**
 * Body size limit. A request with a Content-Length is judged by that header alone (Node's
 * HTTP parser never reads past it), which avoids touching `c.req.raw.body`: on
 * @hono/node-server that materialises a full Request per call, a measurable cost on the
 * intake hot path. Chunked bodies, which have no length up front, are counted as they
 * stream by Hono's own middleware.
 *
 * `perPath` raises the limit for exact paths (the requester's `POST /api/v1/requests`, whose
 * attachments travel in its body, PROTOCOL.md 10.2); every other path keeps `maxBytes`.
 * A body above `maxBytes` is read into memory before its proof of work can be checked, so
 * such bodies take one of `largeBodySlots` while they are read and handled: at most that many
 * at once (memory stays under slots x the raised limit, whatever a flood sends), the next gets
 * 503 `unavailable` with Retry-After before a byte of its body is read. A large body must
 * state its Content-Length; a chunked one keeps `maxBytes`.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError, UnavailableError, ValidationError } from '../errors.ts';

export function bodyLimit(maxBytes: number, perPath: Readonly<Record<string, number>> = {}, largeBodySlots = 4): MiddlewareHandler {
  const streamingFor = (max: number) =>
    streamingBodyLimit({
      maxSize: max,
      onError: () => {
        throw new PayloadTooLargeError();
      },
    });
  const defaultStreaming = streamingFor(maxBytes);
  const raised = new Map(Object.entries(perPath).map(([path, max]) => [path, max]));
  let largeBodiesInFlight = 0;
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(length)) throw new ValidationError('The Content-Length header is malformed.', 'bad_request');
      const bytes = Number(length);
      if (bytes <= maxBytes) return next();
      if (bytes > (raised.get(c.req.path) ?? maxBytes)) throw new PayloadTooLargeError();
      if (largeBodiesInFlight >= largeBodySlots) {
        throw new UnavailableError('Too many large uploads are being received right now. Please try again in a few seconds.', 5);
      }
      largeBodiesInFlight++;
      try {
        return await next();
      } finally {
        largeBodiesInFlight--;
      }
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return defaultStreaming(c, next);
  };
}
