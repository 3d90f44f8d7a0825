/**
 * Builds the two Hono apps, one per site. They are served on separate ports (separate
 * origins), so the requester page and the triage dashboard share no cookies, storage or
 * scripts, and each mounts only the API it needs.
 */
import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import { errorBody, errorHandler } from './errors.ts';
import { bodyLimit } from './http/body-limit.ts';
import { MAX_REQUEST_BODY_WITH_ATTACHMENTS } from './intake/attachments.ts';
import { healthRoutes } from './health/health.routes.ts';
import { requestLog } from './http/request-log.ts';
import { securityHeaders, type Site } from './http/security-headers.ts';
import type { Logger } from './logger.ts';
import { staticSite, type Sites } from './web/static-site.ts';
import { siteManifestRoutes } from './site/site-manifest.routes.ts';
import { SiteManifestService } from './site/site-manifest.service.ts';
import type { Primitives } from '../crypto/primitives.ts';
import { intakeRoutes } from './intake/intake.routes.ts';
import { IntakeService, PlainIntakeService } from './intake/intake.service.ts';
import { noscriptRoutes } from './noscript/noscript.routes.ts';
import { NoscriptFollowUpService } from './noscript/noscript.service.ts';
import { FormTokens } from './noscript/form-token.ts';
import { PowService } from './intake/pow.service.ts';
import { EffortQueue } from './intake/effort-queue.ts';
import { accountRoutes } from './accounts/account.routes.ts';
import { AccountService } from './accounts/account.service.ts';
import { TriageService } from './accounts/triage.service.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { AdminService } from './admin/admin.service.ts';
import { FirstRun } from './admin/setup-first-run.ts';
import { setupRoutes } from './admin/setup.routes.ts';
import { notificationRoutes } from './notifications/notification.routes.ts';
import { NotificationService } from './notifications/notification.service.ts';
import { rootRotationRoutes } from './admin/root-rotation.routes.ts';
import { RootRotationService, type RootReplaced } from './admin/root-rotation.service.ts';

export interface AppDeps {
  db: Kysely<Database>;
  config: Config;
  logger: Logger;
  /** The libsodium backend (server side). */
  crypto: Primitives;
  serverSecret: Uint8Array;
  /** From deployment configuration (never the database); null until set up. */
  rootPublicKey: Uint8Array | null;
  /** Both front ends, loaded from dist/ and rendered; absent in API-only tests. */
  sites?: Sites;
  /** First-run setup (POST /api/v1/setup, triage site); without it the route offers no link (403/409). */
  firstRun?: FirstRun;
  /** Makes a rotated root the configured one (key file, pages, services); absent: this server refuses root rotation. */
  onRootReplaced?: RootReplaced;
}

function baseApp(site: Site, deps: AppDeps): Hono {
  const app = new Hono();
  app.use('*', requestLog(deps.logger));
  app.use('*', securityHeaders(site, deps.config.behindTls, deps.config.onionRequesterUrl, deps.sites?.get(site).scriptIntegrity));
  // A request's attachments travel in its body (PROTOCOL.md 10.2): that one path takes more.
  const raised: Record<string, number> = site === 'requester' ? { '/api/v1/requests': Math.max(deps.config.maxBodyBytes, MAX_REQUEST_BODY_WITH_ATTACHMENTS) } : {};
  app.use('*', bodyLimit(deps.config.maxBodyBytes, raised, deps.config.largeUploadSlots));
  app.onError(errorHandler(deps.logger));
  app.route('/api/v1/health', healthRoutes(deps.db, deps.crypto, deps.rootPublicKey));
  return app;
}

function manifestService(deps: AppDeps): SiteManifestService | undefined {
  return deps.sites ? new SiteManifestService(deps.db, deps.crypto, deps.sites) : undefined;
}

function finish(app: Hono, site: Site, deps: AppDeps): Hono {
  const manifests = manifestService(deps);
  if (deps.sites && manifests) {
    app.route('/', siteManifestRoutes(manifests, site));
    app.route('/', staticSite(deps.sites, site));
  }
  app.notFound((c) => c.json(errorBody('not_found', 'Not found.'), 404));
  return app;
}

export function createRequesterApp(deps: AppDeps): Hono {
  const app = baseApp('requester', deps);
  const q = deps.config.intakeQueue;
  const queue = new EffortQueue({ concurrency: q.concurrency, maxWaiting: q.maxWaiting, maxWaitMs: q.maxWaitSeconds * 1000, perSecond: q.perSecond });
  const pow = new PowService(deps.crypto, deps.serverSecret, deps.config.powBaseDifficulty, deps.config.powMaxDifficulty).watch(queue);
  const intake = new IntakeService(deps.db, deps.crypto, pow, deps.rootPublicKey, queue);
  app.route('/api/v1', intakeRoutes(intake));
  const plain = new PlainIntakeService(intake, deps.db, deps.crypto, deps.rootPublicKey);
  app.route(
    '/',
    noscriptRoutes({
      db: deps.db,
      plain,
      followUps: new NoscriptFollowUpService(deps.db, deps.crypto, intake, plain, deps.rootPublicKey),
      tokens: new FormTokens(deps.crypto, deps.serverSecret),
      sites: deps.sites,
      options: {
        submitPerMinute: deps.config.plainPerMinute,
        readPerMinute: deps.config.plainReadsPerMinute,
        quickExitUrl: deps.config.quickExitUrl,
        pageTitle: deps.config.requesterTitle,
        onionRequesterUrl: deps.config.onionRequesterUrl,
      },
    }),
  );
  return finish(app, 'requester', deps);
}

export function createTriageApp(deps: AppDeps): Hono {
  const app = baseApp('triage', deps);
  const accounts = new AccountService(deps.db, deps.crypto, deps.config, deps.serverSecret);
  const firstRun = deps.firstRun ?? new FirstRun(deps.db, deps.crypto, null, async () => ({ rootKeyFile: null }));
  app.route('/api/v1', setupRoutes(firstRun, deps.config.behindTls));
  app.route('/api/v1', accountRoutes(accounts, new TriageService(deps.db, deps.crypto, deps.rootPublicKey), deps.config));
  app.route('/api/v1', notificationRoutes(accounts, new NotificationService(deps.db, deps.crypto, deps.serverSecret, deps.config.notify.smtpUrl !== null), deps.config));
  const admin = new AdminService(deps.db, deps.crypto, deps.rootPublicKey, deps.config, deps.logger);
  // Before the admin routes: its POST carries its own admin check.
  app.route('/api/v1', rootRotationRoutes(new RootRotationService(deps.db, deps.crypto, admin, deps.onRootReplaced ?? null, deps.logger), accounts, deps.config));
  app.route('/api/v1/admin', adminRoutes(admin, accounts, deps.config, manifestService(deps)));
  return finish(app, 'triage', deps);
}
