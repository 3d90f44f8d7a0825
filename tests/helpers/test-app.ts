/** Builds both site apps over a test database, capturing every log line for inspection. */
import type { Kysely } from 'kysely';
import { createRequesterApp, createTriageApp } from '../../api/app.ts';
import { loadConfig, type Config } from '../../api/config.ts';
import type { Database } from '../../api/db/schema.ts';
import { createLogger } from '../../api/logger.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { DIST_DIR } from '../../api/dist-location.ts';
import { Sites } from '../../api/web/static-site.ts';
import { seedDemo, type DemoOrganisation } from '../../seeds/demo.ts';

const sodium = await loadSodiumPrimitives();

export interface TestApps {
  requester: ReturnType<typeof createRequesterApp>;
  triage: ReturnType<typeof createTriageApp>;
  config: Config;
  logLines: string[];
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    HAVEN_MODE: 'test',
    HAVEN_SERVER_SECRET: 'a'.repeat(64),
    HAVEN_POW_DIFFICULTY: '0',
    HAVEN_LOG_LEVEL: 'debug',
    ...overrides,
  });
}

export interface TestAppOptions {
  env?: Record<string, string>;
  rootPublicKey?: Uint8Array | null;
  /** Serve the built front ends (dist/) too, rendered with `rootPublicKey`. */
  sites?: boolean;
  /** The per-team serial floors the pages are rendered with (none by default). */
  keySerialFloors?: Record<string, number>;
  /** What the server does once a root rotation is committed (absent: rotation is refused). */
  onRootReplaced?: (newRoot: Uint8Array) => Promise<{ rootKeyFile: string | null }>;
}

export function createTestApps(db: Kysely<Database>, options: TestAppOptions = {}): TestApps {
  const config = testConfig(options.env);
  const logLines: string[] = [];
  const logger = createLogger(config.logLevel, (line) => logLines.push(line));
  const rootPublicKey = options.rootPublicKey ?? null;
  const sites = options.sites ? Sites.load(DIST_DIR, { rootPublicKey, keySerialFloors: options.keySerialFloors ?? {} }, { requesterTitle: config.requesterTitle }) : undefined;
  const deps = {
    db, config, logger, crypto: sodium, serverSecret: config.serverSecret!, rootPublicKey,
    ...(sites ? { sites } : {}), ...(options.onRootReplaced ? { onRootReplaced: options.onRootReplaced } : {}),
  };
  return { requester: createRequesterApp(deps), triage: createTriageApp(deps), config, logLines };
}

/** Seeds the demo organisation into a fresh test database. @returns its keys. */
export async function seedDemoOrganisation(db: Kysely<Database>): Promise<DemoOrganisation> {
  const seeded = await seedDemo(db, testConfig(), sodium);
  if (!seeded.created) throw new Error('expected a fresh test database');
  return seeded.demo;
}
