/**
 * Starts Haven: opens the database, migrates, loads both front ends from the build in
 * `dist/` (rendered once with the deployment's root key) and listens on the requester and
 * triage ports. `stop()` is the graceful shutdown: stop accepting, let
 * in-flight requests finish (up to the grace period), then close the database.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createRequesterApp, createTriageApp, type AppDeps } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase, type OpenDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { Logger } from './logger.ts';
import { findOrganisation } from './intake/intake.repository.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { resolveRootPublicKey, resolveServerSecret, writeRootPublicKeyFile } from './deployment-keys.ts';
import { FirstRun } from './admin/setup-first-run.ts';
import { SetupToken } from './admin/setup-token.ts';
import { printLine } from './logger.ts';
import { startRetentionJob } from './admin/retention.service.ts';
import { startNotifications } from './notifications/notifier.start.ts';
import { currentKeySerialFloors } from './admin/admin.service.ts';
import { DIST_DIR } from './dist-location.ts';
import { Sites } from './web/static-site.ts';
import { checkRootKey, describeRootKeyStatus, rootKeyIsWrong, type RootKeyStatus } from './health/root-key.service.ts';
import { applyConnectionLimits, connectionBudgets, serverOptions } from './http/connection-limits.ts';

export interface StartOptions {
  /** The build to serve; default `dist/` (api/dist-location.ts). */
  distDir?: string;
}

export interface RunningServer {
  /** The sites this instance listens for (HAVEN_SITES). */
  serves: { requester: boolean; triage: boolean };
  /** @throws Error when this instance does not serve the requester site (HAVEN_SITES=triage). */
  requesterUrl: string;
  /** @throws Error when this instance does not serve the triage site (HAVEN_SITES=requester). */
  triageUrl: string;
  /** False until an organisation exists and its root public key is configured. */
  setUp: boolean;
  /**
   * On an empty database with no configured root key: the one-time first-run link
   * (`<triage URL>#setup=<token>`), for the console only (never log it). Null otherwise.
   */
  setupUrl: string | null;
  /** Whether the configured root public key matches the organisation, as checked at start. */
  rootKey: RootKeyStatus;
  database: OpenDatabase;
  /** The served front ends (tests may inspect them). */
  sites: Sites;
  /**
   * Re-renders both pages with another root key (tests). Only the pages: the API services
   * keep the key they started with. First-run setup does more (api/admin/setup-first-run.ts):
   * it also rebuilds both apps with the new key.
   */
  renderPages(rootPublicKey: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** `env` carries the Node request (`c.env.incoming`), which api/errors.ts reads to tell a dropped client from a database outage. */
function listen(fetch: (req: Request, env: unknown) => Response | Promise<Response>, host: string, port: number, options: ServerOptions): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port, serverOptions: options }, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}

function urlOf(server: ServerType, host: string): string {
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

function closeServer(server: ServerType, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const http = server as import('node:http').Server;
    const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
    http.close(() => {
      clearTimeout(timer);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}

export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const rootPublicKey = resolveRootPublicKey(config);
  // Before touching the database: a missing build is a one-line fix, not a half-started server.
  // No floors yet: they come from the database, rendered again once it is open (below).
  const sites = Sites.load(options.distDir ?? DIST_DIR, { rootPublicKey, keySerialFloors: {} }, { requesterTitle: config.requesterTitle });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const servers: ServerType[] = [];
  const serves = { requester: config.sites !== 'triage', triage: config.sites !== 'requester' };
  let triageServer: ServerType | null = null;
  let requesterServer: ServerType | null = null;
  let setUp = false;
  let rootKey: RootKeyStatus = 'no_organisation';
  let stopRetention = () => {};
  let setupToken: string | null = null;
  let apps: { triage: Hono; requester: Hono } | null = null;
  let stopNotifier = async () => {};
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info('migrated', { count: applied.length });
    // Before listening: no page goes out without the floors of the keys current right now.
    sites.render({ rootPublicKey, keySerialFloors: await currentKeySerialFloors(database.db) });
    const deps: AppDeps = {
      db: database.db,
      config,
      logger,
      crypto: await loadSodiumPrimitives(),
      serverSecret: resolveServerSecret(config),
      rootPublicKey,
      sites,
    };
    // First run: no organisation and no configured root key. The link's token exists only in
    // this process (its hash) and on its console; see api/admin/setup-token.ts.
    const offerSetup = rootPublicKey === null && (await findOrganisation(database.db)) === null;
    const created = offerSetup ? SetupToken.create() : null;
    setupToken = created?.text ?? null;
    deps.firstRun = new FirstRun(database.db, deps.crypto, created?.token ?? null, async (result) => {
      let rootKeyFile: string | null = null;
      try {
        rootKeyFile = writeRootPublicKeyFile(config, result.rootPublicKey);
      } catch {
        printLine(`haven: could not write ${config.rootPublicKeyFile}; set HAVEN_ROOT_PUBLIC_KEY=${Buffer.from(result.rootPublicKey).toString('hex')} before the next start.`);
      }
      // From now on every service, health check and page uses the new root: the apps are
      // built again with it (the old ones finish their requests), the pages re-rendered.
      deps.rootPublicKey = result.rootPublicKey;
      sites.render({ rootPublicKey: result.rootPublicKey, keySerialFloors: await currentKeySerialFloors(database.db) });
      apps = { triage: createTriageApp(deps), requester: createRequesterApp(deps) };
      setUp = true;
      rootKey = 'ok';
      printLine(`Haven is set up. Root key fingerprint: ${result.rootFingerprint}`);
      if (rootKeyFile) printLine(`  Root public key written to ${rootKeyFile}`);
      return { rootKeyFile };
    });
    // A root rotation (api/admin/root-rotation.service.ts) makes the new root this instance's
    // configured one at once: written where the configuration reads it, pages rendered with it,
    // and every service built again with it (requests in flight finish on the old ones).
    deps.onRootReplaced = async (newRoot) => {
      let rootKeyFile: string | null = null;
      if (config.rootPublicKey) {
        printLine(`haven: the root key was rotated. Set HAVEN_ROOT_PUBLIC_KEY=${Buffer.from(newRoot).toString('hex')} on every instance before the next start.`);
      } else {
        try {
          rootKeyFile = writeRootPublicKeyFile(config, newRoot);
        } catch {
          printLine(`haven: could not write ${config.rootPublicKeyFile}; set HAVEN_ROOT_PUBLIC_KEY=${Buffer.from(newRoot).toString('hex')} before the next start.`);
        }
      }
      deps.rootPublicKey = newRoot;
      sites.render({ rootPublicKey: newRoot, keySerialFloors: await currentKeySerialFloors(database.db) });
      apps = { triage: createTriageApp(deps), requester: createRequesterApp(deps) };
      rootKey = await checkRootKey(database.db, deps.crypto, newRoot);
      return { rootKeyFile };
    };
    apps = { triage: createTriageApp(deps), requester: createRequesterApp(deps) };
    const budgets = connectionBudgets(config.connections);
    if (budgets.loweredFrom !== null) {
      logger.warn('requester_connections_lowered', { from: budgets.loweredFrom, to: budgets.requester, openFileLimit: budgets.openFileLimit });
    }
    const options = serverOptions(config.connections);
    // Triage first: its budget is the one that must always be there.
    if (serves.triage) {
      triageServer = await listen((req, env) => apps!.triage.fetch(req, env), config.host, config.triagePort, options);
      servers.push(triageServer);
      applyConnectionLimits(triageServer as Server, 'triage', config.connections, budgets.triage, logger);
    }
    if (serves.requester) {
      requesterServer = await listen((req, env) => apps!.requester.fetch(req, env), config.host, config.requesterPort, options);
      servers.push(requesterServer);
      applyConnectionLimits(requesterServer as Server, 'requester', config.connections, budgets.requester, logger);
    }
    setUp = deps.rootPublicKey !== null && (await findOrganisation(database.db)) !== null;
    rootKey = await checkRootKey(database.db, deps.crypto, deps.rootPublicKey);
    // Start anyway (the triage dashboard is how an admin repairs things), but say it once,
    // loudly; readiness answers 503 until it is fixed and Haven restarted.
    if (rootKeyIsWrong(rootKey)) logger.error(`root_key_${rootKey}`, { problem: describeRootKeyStatus(rootKey) });
    stopRetention = startRetentionJob(database.db, deps.crypto, { serverSecret: deps.serverSecret, config, logger });
    stopNotifier = startNotifications(deps);
  } catch (err) {
    await Promise.all(servers.map((s) => closeServer(s, 0)));
    await database.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  const triageUrl = triageServer ? urlOf(triageServer, config.host) : null;
  const requesterUrl = requesterServer ? urlOf(requesterServer, config.host) : null;
  const notServed = (site: string): never => {
    throw new Error(`this instance does not serve the ${site} site (HAVEN_SITES=${config.sites})`);
  };
  return {
    serves,
    get setUp() {
      return setUp;
    },
    get rootKey() {
      return rootKey;
    },
    // No triage site here, no link to print: the triage instance prints its own.
    setupUrl: setupToken === null || triageUrl === null ? null : `${triageUrl}#setup=${setupToken}`,
    get requesterUrl() {
      return requesterUrl ?? notServed('requester');
    },
    get triageUrl() {
      return triageUrl ?? notServed('triage');
    },
    database,
    sites,
    async renderPages(key) {
      sites.render({ rootPublicKey: key, keySerialFloors: await currentKeySerialFloors(database.db) });
    },
    stop() {
      stopping ??= (async () => {
        stopRetention();
        await Promise.all(servers.map((s) => closeServer(s, config.shutdownGraceSeconds * 1000)));
        // After the sites close (no new signals), before the database does (a batch in flight finishes).
        await stopNotifier();
        await database.close();
      })();
      return stopping;
    },
  };
}
