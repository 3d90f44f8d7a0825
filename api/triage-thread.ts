/**
 * The triage site in a worker thread of its own (started by api/server.ts): its sockets,
 * parsing and handlers run on this thread's event loop, so a flood of sockets against the
 * requester site (the public one) cannot delay the dashboard's answers behind its own
 * events. The database stays with the main thread and is reached through a MessagePort
 * (api/db/thread-proxy.ts); both threads share the process, its open-file limit and its
 * lifetime: the main thread starts this one before saying it runs, and stops it on shutdown.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import { createTriageApp } from './app.ts';
import type { Config } from './config.ts';
import { proxiedDatabase } from './db/thread-proxy.ts';
import { applyConnectionLimits, serverOptions } from './http/connection-limits.ts';
import { closeServer, listen, portOf } from './http/listen.ts';
import { createLogger } from './logger.ts';
import { Sites, type DeploymentValues } from './web/static-site.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';

export interface TriageThreadData {
  config: Config;
  serverSecret: Uint8Array;
  rootPublicKey: Uint8Array | null;
  distDir: string;
  rendered: DeploymentValues;
  budget: number;
  database: MessagePort;
}

/** Messages from the main thread. */
export type TriageThreadCommand = { type: 'render'; values: DeploymentValues } | { type: 'stop'; graceMs: number };
/** Messages to the main thread. */
export type TriageThreadEvent = { type: 'listening'; port: number } | { type: 'rendered' } | { type: 'stopped' } | { type: 'failed'; message: string; code?: string };

const data = workerData as TriageThreadData;
const parent = parentPort!;
const send = (e: TriageThreadEvent) => parent.postMessage(e);
let server: ServerType | null = null;

try {
  const { config } = data;
  const logger = createLogger(config.logLevel);
  const db = proxiedDatabase(data.database);
  const sites = Sites.load(data.distDir, data.rendered);
  const app = createTriageApp({ db, config, logger, crypto: await loadSodiumPrimitives(), serverSecret: data.serverSecret, rootPublicKey: data.rootPublicKey, sites });
  server = await listen(app.fetch, config.host, config.triagePort, serverOptions(config.connections));
  applyConnectionLimits(server as Server, 'triage', config.connections, data.budget, logger);
  parent.on('message', (m: TriageThreadCommand) => {
    if (m.type === 'render') {
      sites.render(m.values);
      send({ type: 'rendered' });
    } else {
      void closeServer(server!, m.graceMs).then(() => {
        data.database.close();
        send({ type: 'stopped' });
        parent.close();
      });
    }
  });
  send({ type: 'listening', port: portOf(server) });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  send({ type: 'failed', message: e instanceof Error ? e.message : String(e), ...(e?.code ? { code: e.code } : {}) });
  data.database.close();
  parent.close();
}
