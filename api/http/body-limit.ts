/**
 * Body size limit. A request with a Content-Length is judged by that header alone (Node's
 * HTTP parser never reads past it), which avoids touching `c.req.raw.body`: on
 * @hono/node-server that materialises a full Request per call, a measurable cost on the
 * intake hot path. Chunked bodies, which have no length up front, are counted as they
 * stream by Hono's own middleware.
 *
 * `perPath` raises the limit for exact paths (the requester's `POST /api/v1/requests`, whose
 * attachments travel in its body, PROTOCOL.md 10.2); every other path keeps `maxBytes`.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

export function bodyLimit(maxBytes: number, perPath: Readonly<Record<string, number>> = {}): MiddlewareHandler {
  const streamingFor = (max: number) =>
    streamingBodyLimit({
      maxSize: max,
      onError: () => {
        throw new PayloadTooLargeError();
      },
    });
  const defaultStreaming = streamingFor(maxBytes);
  const raised = new Map(Object.entries(perPath).map(([path, max]) => [path, { max, streaming: streamingFor(max) }]));
  return async (c, next) => {
    const special = raised.get(c.req.path);
    const limit = special?.max ?? maxBytes;
    const streaming = special?.streaming ?? defaultStreaming;
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(length)) throw new ValidationError('The Content-Length header is malformed.', 'bad_request');
      if (Number(length) > limit) throw new PayloadTooLargeError();
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return streaming(c, next);
  };
}
