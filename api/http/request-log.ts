/**
 * The request log: method, route pattern, status and duration, and nothing else. No IP,
 * user agent, query string, body or time of day, so the log cannot identify or time a
 * requester. The route pattern (`/api/v1/threads/:id`), not the path, keeps ids out too.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../logger.ts';

export function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logger.info('request', {
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  };
}
