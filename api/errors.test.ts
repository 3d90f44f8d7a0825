import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorHandler, ValidationError } from './errors.ts';
import { createLogger } from './logger.ts';

function appThrowing(err: unknown) {
  const lines: string[] = [];
  const app = new Hono();
  app.onError(errorHandler(createLogger('debug', (l) => lines.push(l))));
  app.get('/x', () => {
    throw err;
  });
  return { app, lines };
}

function withCode(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('the one error model', () => {
  it('maps an AppError to its status and the JSON shape', async () => {
    const { app } = appThrowing(new ValidationError('Field "x" is required.'));
    const res = await app.request('/x');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'validation_failed', message: 'Field "x" is required.' } });
  });

  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['server shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['a broken client', withCode('Client has encountered a connection error and is not queryable')],
    ['the pool timing out', withCode('timeout exceeded when trying to connect')],
    ['too many connections', withCode('sorry, too many clients already', '53300')],
  ])('answers 503 with Retry-After when the database is down: %s', async (_name, err) => {
    const { app } = appThrowing(err);
    const res = await app.request('/x');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('answers 500 for anything else and logs only the error class, never its message', async () => {
    const { app, lines } = appThrowing(new TypeError('duplicate key value (secret)=(CANARY-err)'));
    const res = await app.request('/x');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'Something went wrong on our side.' } });
    expect(lines.join('\n')).not.toContain('CANARY');
    expect(lines.join('\n')).toContain('TypeError');
  });
});
