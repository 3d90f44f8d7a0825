/**
 * A PostgreSQL cluster of a test's own: `initdb` into a temporary directory, started with
 * `pg_ctl` on a free loopback port, trust authentication, default durability (fsync on).
 *
 * Fault tests stop and start it at will; that is why they never touch the shared server on
 * 5432. Every command names this cluster's own data directory, so nothing here can reach
 * another cluster. `destroy()` stops it (fast, then immediate) and deletes the directory;
 * a process-exit hook does the same if a test run dies before its `afterAll`.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface ThrowawayPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (default database `postgres`). */
  url(database?: string): string;
  /** `pg_ctl start -w`: returns once the cluster accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m fast -w`: terminates sessions and waits for a clean shutdown. */
  stop(): Promise<void>;
  /** Creates a database in this cluster and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the cluster if it runs and deletes its directory. Safe to call twice. */
  destroy(): Promise<void>;
}

/** The newest PostgreSQL server binaries installed under /usr/lib/postgresql, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(root);
  } catch {
    return null;
  }
  const found = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'initdb')) && fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return found[0] ? path.join(root, found[0], 'bin') : null;
}

/** Why a throwaway cluster cannot be made here, or null when it can. */
export function throwawayPostgresUnavailable(): string | null {
  if (!postgresBinDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root but there is no `postgres` user to run initdb as';
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<() => void>();
process.once('exit', () => {
  for (const kill of live) kill();
});

/**
 * Creates, starts and returns a fresh cluster.
 * @throws Error when the binaries or the `postgres` user are missing, or initdb/start fail.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const why = throwawayPostgresUnavailable();
  if (why) throw new Error(`cannot create a throwaway PostgreSQL cluster: ${why}`);
  const bin = postgresBinDir()!;
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (asRoot) {
    // PostgreSQL refuses to run as root: the cluster belongs to the `postgres` user.
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, gid);
  }
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  // Asynchronous, so a test's load loop keeps running while the cluster stops or starts.
  const run = (tool: string, args: string[], timeoutMs = 60_000) =>
    new Promise<{ ok: boolean; output: string }>((resolve) => {
      const [cmd, argv] = command(tool, args);
      execFile(cmd, argv, { cwd: dir, encoding: 'utf8', timeout: timeoutMs, env }, (error, stdout, stderr) => {
        resolve({ ok: !error, output: `${stdout}${stderr}${error ? String(error) : ''}` });
      });
    });
  // Only for the exit hook, where nothing asynchronous runs any more.
  const runSync = (tool: string, args: string[], timeoutMs: number) => {
    const [cmd, argv] = command(tool, args);
    spawnSync(cmd, argv, { cwd: dir, timeout: timeoutMs, env, stdio: 'ignore' });
  };

  let port = 0;
  let destroyed = false;
  const ctl = (args: string[], timeoutMs?: number) => run('pg_ctl', ['-D', dataDir, ...args], timeoutMs);
  const emergencyStop = () => {
    runSync('pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10'], 15_000);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  // --no-sync skips only initdb's own final flush of the fresh directory (seconds on a busy
  // disk); the server then runs with fsync=on, so commits are as durable as in production.
  const init = await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  if (!init.ok) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.output}`);
  }
  live.add(emergencyStop);

  const start = async () => {
    // The port is chosen once; a restart reuses it so clients find the cluster again.
    if (port === 0) port = await freePort();
    const options = [`-c port=${port}`, "-c listen_addresses='127.0.0.1'", `-c unix_socket_directories='${dir}'`, '-c fsync=on', '-c max_connections=60'].join(' ');
    const started = await ctl(['start', '-w', '-t', '30', '-l', logFile, '-o', options], 40_000);
    if (!started.ok) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
      throw new Error(`pg_ctl start failed: ${started.output}\n${log}`);
    }
  };

  try {
    await start();
  } catch (err) {
    live.delete(emergencyStop);
    emergencyStop();
    throw err;
  }

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    get port() {
      return port;
    },
    url,
    start,
    async stop() {
      const stopped = await ctl(['stop', '-m', 'fast', '-w', '-t', '30'], 40_000);
      if (!stopped.ok) throw new Error(`pg_ctl stop failed: ${stopped.output}`);
    },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error('database names here are plain identifiers');
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(emergencyStop);
      if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
        const fast = await ctl(['stop', '-m', 'fast', '-w', '-t', '20'], 30_000);
        if (!fast.ok) await ctl(['stop', '-m', 'immediate', '-w', '-t', '10'], 15_000);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
