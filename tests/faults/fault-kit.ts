/**
 * What the fault tests share: a seeded database for a Haven child process, and a requester
 * client that records exactly what it sent and what came back, so a test can later check
 * that every request answered 201 is stored byte for byte.
 *
 * Submissions skip the Argon2 step of a real requester: the lookup token is random and only
 * its hash is sent, which is all the server ever sees. Every HTTP call has a client-side
 * timeout, so a hung server fails the test instead of hanging it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../api/config.ts';
import { openDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { RequesterKeys } from '../helpers/requester-client.ts';
import { seedDemo, type DemoOrganisation } from '../../seeds/demo.ts';
import type { HavenProcess } from '../helpers/haven-process.ts';
import type { ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from '../helpers/requester-client.ts';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** After a fault test: kills every Haven still running, destroys the cluster, removes the directories. */
export async function tearDown(processes: readonly HavenProcess[], cluster: ThrowawayPostgres | null, dirs: readonly string[]): Promise<void> {
  for (const h of processes) {
    if (h.child.exitCode === null && h.child.signalCode === null) {
      h.child.kill('SIGKILL');
      await h.exited;
    }
  }
  await cluster?.destroy();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Migrates and seeds the demo organisation into the database Haven will use (PGlite in
 * `dataDir` when `databaseUrl` is null), and returns it with the environment that points
 * Haven at it. PoW difficulty is 0 and cannot rise: these tests measure storage, not work.
 */
export async function seedForHaven(options: { dataDir: string; databaseUrl: string | null; serverSecret?: string }): Promise<{ demo: DemoOrganisation; env: Record<string, string> }> {
  const base: Record<string, string> = {
    HAVEN_MODE: 'test',
    HAVEN_DATA_DIR: options.dataDir,
    HAVEN_POW_DIFFICULTY: '0',
    HAVEN_POW_MAX_DIFFICULTY: '0',
    HAVEN_LOG_LEVEL: 'warn',
    HAVEN_SHUTDOWN_GRACE_SECONDS: '1',
    HAVEN_SERVER_SECRET: options.serverSecret ?? randomBytes(32).toString('hex'),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  };
  const config = loadConfig(base);
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrateToLatest(database.db);
    const seeded = await seedDemo(database.db, config, p);
    if (!seeded.created) throw new Error('expected a fresh database');
    return { demo: seeded.demo, env: { ...base, HAVEN_ROOT_PUBLIC_KEY: Buffer.from(seeded.demo.root.publicKey).toString('hex') } };
  } finally {
    await database.close();
  }
}

export interface Submission {
  index: number;
  envelope: Uint8Array;
  token: Uint8Array;
  body: { envelope: string; lookupHash: string };
}

export interface Outcome {
  status: number | null;
  /** Set when no HTTP answer arrived (connection refused or reset, client timeout). */
  failure: string | null;
  retryAfter: string | null;
  contentType: string | null;
  json: unknown;
  ms: number;
  startedAt: number;
}

export class FaultClient {
  constructor(
    private readonly p: Primitives,
    private readonly demo: DemoOrganisation,
    private readonly keys: RequesterKeys,
    readonly timeoutMs = 8000,
  ) {}

  static async create(p: Primitives, demo: DemoOrganisation, timeoutMs?: number): Promise<FaultClient> {
    const keys = await requesterKeys(p, 'fault fault fault fault fault fault fault fault', demo.organisationId);
    return new FaultClient(p, demo, keys, timeoutMs);
  }

  /** A sealed request (teams taken in turn) with a fresh id and a fresh lookup token. */
  submission(index: number, teamIndex = index % this.demo.teams.length): Submission {
    const team = this.demo.teams[teamIndex]!;
    const envelope = sealRequest(this.p, this.demo, team, this.keys, requestBody(`fault test request ${index}`, this.keys));
    const token = this.p.randomBytes(32);
    return { index, envelope, token, body: { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(this.p, token)) } };
  }

  async challenge(baseUrl: string): Promise<Uint8Array> {
    const res = await fetch(new URL('/api/v1/pow/challenge', baseUrl), { signal: AbortSignal.timeout(this.timeoutMs) });
    if (res.status !== 200) throw new Error(`challenge answered ${res.status}`);
    return base64urlDecode(((await res.json()) as { challenge: string }).challenge);
  }

  proof(challenge: Uint8Array): { challenge: string; nonce: string } {
    return proofFor(this.p, challenge);
  }

  /** POSTs a submission with the given proof; never throws, records what happened. */
  async post(baseUrl: string, s: Submission, pow: { challenge: string; nonce: string }): Promise<Outcome> {
    return timed(() =>
      fetch(new URL('/api/v1/requests', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...s.body, pow }),
        signal: AbortSignal.timeout(this.timeoutMs),
      }),
    );
  }

  /** Fetches a challenge, solves it and submits: what the requester page does. */
  async submit(baseUrl: string, s: Submission): Promise<Outcome> {
    const startedAt = Date.now();
    let challenge: Uint8Array;
    try {
      challenge = await this.challenge(baseUrl);
    } catch (err) {
      return { status: null, failure: describe(err), retryAfter: null, contentType: null, json: null, ms: Date.now() - startedAt, startedAt };
    }
    const outcome = await this.post(baseUrl, s, this.proof(challenge));
    return { ...outcome, startedAt, ms: Date.now() - startedAt };
  }

  /** The requester-visible messages of the thread the token opens (throws on a non-200). */
  async lookup(baseUrl: string, token: Uint8Array): Promise<{ id: string; kind: string; blob: Uint8Array }[]> {
    const res = await fetch(new URL('/api/v1/threads/lookup', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: base64urlEncode(token) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status !== 200) throw new Error(`lookup answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { messages: { id: string; kind: string; blob: string }[] };
    return body.messages.map((m) => ({ ...m, blob: base64urlDecode(m.blob) }));
  }
}

async function timed(call: () => Promise<Response>): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const res = await call();
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, failure: null, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type'), json, ms: Date.now() - startedAt, startedAt };
  } catch (err) {
    return { status: null, failure: describe(err), retryAfter: null, contentType: null, json: null, ms: Date.now() - startedAt, startedAt };
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string } }).cause;
  return `${err.name}${cause?.code ? `:${cause.code}` : ''}`;
}

/** Runs `task` over `items` with at most `width` at a time, in order of index. */
export async function pooled<T, R>(items: readonly T[], width: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
