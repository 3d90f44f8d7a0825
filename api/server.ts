/**
 * Starts Haven: opens the database, migrates, loads both front ends from the build in
 * `dist/` (rendered once with the deployment's root key) and listens on the requester and
 * triage ports. `stop()` is the graceful shutdown: stop accepting, let
 * in-flight requests finish (up to the grace period), then close the database.
 */
import type { Server } from 'node:http';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ServerType } from '@hono/node-server';
import { createRequesterApp, createTriageApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase, type OpenDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { Logger } from './logger.ts';
import { findOrganisation } from './intake/intake.repository.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { resolveRootPublicKey, resolveServerSecret } from './deployment-keys.ts';
import { startRetentionJob } from './admin/retention.service.ts';
import { currentKeySerialFloors } from './admin/admin.service.ts';
import { BUNDLED, DIST_DIR } from './dist-location.ts';
import { Sites } from './web/static-site.ts';
import { checkRootKey, describeRootKeyStatus, rootKeyIsWrong, type RootKeyStatus } from './health/root-key.service.ts';
import { applyConnectionLimits, connectionBudgets, serverOptions } from './http/connection-limits.ts';
import { closeServer, listen, portOf, urlOf } from './http/listen.ts';
import { serveDatabase } from './db/thread-proxy.ts';
import type { TriageThreadCommand, TriageThreadData, TriageThreadEvent } from './triage-thread.ts';
import type { DeploymentValues } from './web/static-site.ts';

export interface StartOptions {
  /** The build to serve; default `dist/` (api/dist-location.ts). */
  distDir?: string;
  /**
   * Run the triage site in a worker thread of its own (api/triage-thread.ts), so a socket
   * flood of the requester site cannot stall it. `npm start` does; in-process tests do not.
   */
  triageThread?: boolean;
}

export interface RunningServer {
  requesterUrl: string;
  triageUrl: string;
  /** False until an organisation exists and its root public key is configured. */
  setUp: boolean;
  /** Whether the configured root public key matches the organisation, as checked at start. */
  rootKey: RootKeyStatus;
  database: OpenDatabase;
  /** The served front ends (tests may inspect them). */
  sites: Sites;
  /**
   * Re-renders both pages with a root key that became available after start (first-run
   * setup). The API services keep the key they started with until a restart.
   */
  renderPages(rootPublicKey: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** The triage site on its own thread: started, re-rendered and stopped by messages. */
interface TriageThread {
  port: number;
  render(values: DeploymentValues): Promise<void>;
  stop(graceMs: number): Promise<void>;
}

const TRIAGE_THREAD_URL = new URL(BUNDLED ? './triage-thread.js' : './triage-thread.ts', import.meta.url);

/**
 * From the sources (`node --import tsx api/main.ts`), the thread must register the same
 * TypeScript loader before importing its entry: a worker's --import does not apply to its own
 * entry module. The loader is the one this process was started with (built code needs none).
 */
function sourceBootstrap(): string {
  const at = process.execArgv.indexOf('--import');
  const loader = at === -1 ? undefined : process.execArgv[at + 1];
  if (!loader) throw new Error('the triage thread needs built code (npm run build) or a process started with --import <loader>');
  return (
    `import(${JSON.stringify(import.meta.resolve(`${loader}/esm/api`))})` +
    `.then((loader) => { loader.register(); return import(${JSON.stringify(TRIAGE_THREAD_URL.href)}); })`
  );
}

function startTriageThread(data: Omit<TriageThreadData, 'database'>, db: OpenDatabase['db'], logger: Logger): Promise<TriageThread> {
  const channel = new MessageChannel();
  serveDatabase(db, channel.port1);
  const options = { workerData: { ...data, database: channel.port2 }, transferList: [channel.port2] };
  const worker = BUNDLED
    ? new Worker(TRIAGE_THREAD_URL, options)
    : new Worker(sourceBootstrap(), { ...options, eval: true });
  let stopping = false;
  const next = (type: TriageThreadEvent['type']) =>
    new Promise<TriageThreadEvent>((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (e: TriageThreadEvent) => {
        if (e.type !== type && e.type !== 'failed') return;
        done();
        if (e.type === 'failed') reject(Object.assign(new Error(e.message), e.code ? { code: e.code } : {}));
        else resolve(e);
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      const onExit = (code: number) => {
        done();
        reject(new Error(`the triage thread exited (${code})`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  return next('listening').then(
    (e) => {
      // The two sites live and die together: a triage thread that dies on its own stops Haven
      // (SIGTERM: the same graceful stop as an operator's), and the supervisor restarts it.
      worker.on('exit', (code) => {
        channel.port1.close();
        if (stopping) return;
        logger.error('triage_thread_died', { code });
        process.kill(process.pid, 'SIGTERM');
      });
      worker.on('error', () => {});
      return {
        port: (e as { port: number }).port,
        async render(values) {
          const done = next('rendered');
          worker.postMessage({ type: 'render', values } satisfies TriageThreadCommand);
          await done;
        },
        async stop(graceMs) {
          stopping = true;
          const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
          worker.postMessage({ type: 'stop', graceMs } satisfies TriageThreadCommand);
          // The thread ends once its server has closed; past the grace period (plus a margin), end it.
          const timer = setTimeout(() => void worker.terminate(), graceMs + 5000);
          await exited;
          clearTimeout(timer);
        },
      };
    },
    async (err: unknown) => {
      stopping = true;
      await worker.terminate();
      channel.port1.close();
      throw err;
    },
  );
}

export async function startServer(config: Config, logger: Logger, startOptions: StartOptions = {}): Promise<RunningServer> {
  const rootPublicKey = resolveRootPublicKey(config);
  // Before touching the database: a missing build is a one-line fix, not a half-started server.
  // No floors yet: they come from the database, rendered again once it is open (below).
  const sites = Sites.load(startOptions.distDir ?? DIST_DIR, { rootPublicKey, keySerialFloors: {} });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const servers: ServerType[] = [];
  let triageThread: TriageThread | null = null;
  let triagePort = 0;
  let requesterServer: ServerType | null = null;
  let setUp = false;
  let rootKey: RootKeyStatus = 'no_organisation';
  let stopRetention = () => {};
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info('migrated', { count: applied.length });
    // Before listening: no page goes out without the floors of the keys current right now.
    sites.render({ rootPublicKey, keySerialFloors: await currentKeySerialFloors(database.db) });
    const deps = {
      db: database.db,
      config,
      logger,
      crypto: await loadSodiumPrimitives(),
      serverSecret: resolveServerSecret(config),
      rootPublicKey,
      sites,
    };
    const budgets = connectionBudgets(config.connections);
    if (budgets.loweredFrom !== null) {
      logger.warn('requester_connections_lowered', { from: budgets.loweredFrom, to: budgets.requester, openFileLimit: budgets.openFileLimit });
    }
    const options = serverOptions(config.connections);
    // Triage first: its budget is the one that must always be there.
    if (startOptions.triageThread) {
      triageThread = await startTriageThread(
        { config, serverSecret: deps.serverSecret, rootPublicKey, distDir: startOptions.distDir ?? DIST_DIR, rendered: sites.renderedWith(), budget: budgets.triage },
        database.db,
        logger,
      );
      triagePort = triageThread.port;
    } else {
      const triage = await listen(createTriageApp(deps).fetch, config.host, config.triagePort, options);
      servers.push(triage);
      applyConnectionLimits(triage as Server, 'triage', config.connections, budgets.triage, logger);
      triagePort = portOf(triage);
    }
    const requester = await listen(createRequesterApp(deps).fetch, config.host, config.requesterPort, options);
    servers.push(requester);
    requesterServer = requester;
    applyConnectionLimits(requester as Server, 'requester', config.connections, budgets.requester, logger);
    setUp = deps.rootPublicKey !== null && (await findOrganisation(database.db)) !== null;
    rootKey = await checkRootKey(database.db, deps.crypto, deps.rootPublicKey);
    // Start anyway (the triage dashboard is how an admin repairs things), but say it once,
    // loudly; readiness answers 503 until it is fixed and Haven restarted.
    if (rootKeyIsWrong(rootKey)) logger.error(`root_key_${rootKey}`, { problem: describeRootKeyStatus(rootKey) });
    stopRetention = startRetentionJob(database.db, deps.crypto, { serverSecret: deps.serverSecret, config, logger });
  } catch (err) {
    await Promise.all([...servers.map((s) => closeServer(s, 0)), triageThread?.stop(0)]);
    await database.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    setUp,
    rootKey,
    requesterUrl: urlOf(portOf(requesterServer!), config.host),
    triageUrl: urlOf(triagePort, config.host),
    database,
    sites,
    async renderPages(key) {
      sites.render({ rootPublicKey: key, keySerialFloors: await currentKeySerialFloors(database.db) });
      await triageThread?.render(sites.renderedWith());
    },
    stop() {
      stopping ??= (async () => {
        stopRetention();
        const graceMs = config.shutdownGraceSeconds * 1000;
        await Promise.all([...servers.map((s) => closeServer(s, graceMs)), triageThread?.stop(graceMs)]);
        await database.close();
      })();
      return stopping;
    },
  };
}
