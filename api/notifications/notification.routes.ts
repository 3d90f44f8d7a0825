/**
 * Notification opt-in, mounted at `/api/v1` on the triage app only:
 *
 *   GET    /api/v1/notifications        the caller's own setting
 *   PUT    /api/v1/notifications        {address}: opt in, or change the address
 *   DELETE /api/v1/notifications        opt out (204, also when not opted in)
 *   GET    /api/v1/admin/notifications  admins: who opted in, by name, never the address
 *
 * Every route needs a session; state-changing ones refuse other origins (sameOriginOnly).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Config } from '../config.ts';
import { ForbiddenError } from '../errors.ts';
import { decodeBase64url, encodeBase64url, readJsonObject } from '../http/validate.ts';
import { SESSION_COOKIE, sameOriginOnly } from '../accounts/account.routes.ts';
import type { AccountService, Session } from '../accounts/account.service.ts';
import type { NotificationService } from './notification.service.ts';

type Env = { Variables: { session: Session } };

export function notificationRoutes(accounts: AccountService, notifications: NotificationService, config: Pick<Config, 'behindTls'>) {
  const app = new Hono<Env>();
  const paths = ['/notifications', '/admin/notifications'];
  for (const path of paths) app.use(path, sameOriginOnly(config.behindTls));
  const signedIn: MiddlewareHandler<Env> = async (c, next) => {
    const value = getCookie(c, SESSION_COOKIE);
    c.set('session', await accounts.authenticate(value && value.length <= 64 ? decodeBase64url(value) : null));
    await next();
  };
  const who = (c: Context<Env>) => c.get('session').account;

  app.get('/notifications', signedIn, async (c) => c.json(await notifications.status(who(c))));

  app.put('/notifications', signedIn, async (c) => {
    const body = await readJsonObject(c);
    return c.json(await notifications.subscribe(who(c), body.address));
  });

  app.delete('/notifications', signedIn, async (c) => {
    await notifications.unsubscribe(who(c));
    return c.body(null, 204);
  });

  app.get('/admin/notifications', signedIn, async (c) => {
    if (who(c).role !== 'admin') throw new ForbiddenError('Only an admin can do this.');
    const list = await notifications.subscribers();
    return c.json({ subscribers: list.map((s) => ({ id: encodeBase64url(s.id), username: s.username })) });
  });

  return app;
}
