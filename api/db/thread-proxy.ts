/**
 * The database across a thread boundary: the thread that opened the database serves queries
 * from another thread over a MessagePort, and that thread uses it through an ordinary Kysely
 * dialect. Why: the triage site runs in a worker thread of its own (so a socket flood of the
 * requester site cannot stall its event loop), while embedded PGlite is one connection in one
 * thread and a `pg` pool is best shared by the process.
 *
 * One proxied connection is one connection held on the serving side, from acquire to release,
 * so a transaction's statements run on one session, as with any pool. Only SQL text,
 * parameters and result rows cross (structured clone: bytes arrive as Uint8Array); errors
 * arrive as Errors with the database's `code` (23505 ...), never with more.
 */
import type { MessagePort } from 'node:worker_threads';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { Database } from './schema.ts';

type Request =
  | { id: number; op: 'acquire'; conn: number }
  | { id: number; op: 'query'; conn: number; sql: string; parameters: readonly unknown[] }
  | { id: number; op: 'release'; conn: number };
type Reply = { id: number; result?: QueryResult<unknown> } | { id: number; error: { message: string; code?: string } };

function describeError(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  return { message: typeof e?.message === 'string' ? e.message : 'database error', ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

/**
 * Serves `db` to the thread at the other end of `port` until the port closes; every connection
 * that thread still holds is then released.
 */
export function serveDatabase(db: Kysely<Database>, port: MessagePort): void {
  const held = new Map<number, { conn: Kysely<Database>; release: () => void }>();
  const reply = (m: Reply) => port.postMessage(m);
  port.on('message', (m: Request) => {
    if (m.op === 'acquire') {
      db.connection()
        .execute(
          (conn) =>
            new Promise<void>((release) => {
              held.set(m.conn, { conn, release });
              reply({ id: m.id });
            }),
        )
        .catch((err: unknown) => reply({ id: m.id, error: describeError(err) }));
    } else if (m.op === 'query') {
      const h = held.get(m.conn);
      if (!h) return reply({ id: m.id, error: { message: 'no such connection' } });
      h.conn.executeQuery(CompiledQuery.raw(m.sql, [...m.parameters])).then(
        (result) => reply({ id: m.id, result }),
        (err: unknown) => reply({ id: m.id, error: describeError(err) }),
      );
    } else {
      held.get(m.conn)?.release();
      held.delete(m.conn);
      reply({ id: m.id });
    }
  });
  port.on('close', () => {
    for (const h of held.values()) h.release();
    held.clear();
  });
}

class ProxyClient {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (r: QueryResult<unknown> | undefined) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: Reply) => {
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if ('error' in m) w.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      else w.resolve(m.result);
    });
  }

  call(request: Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never): Promise<QueryResult<unknown> | undefined> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.port.postMessage({ ...request, id });
    });
  }

  newConnection(): number {
    return this.#next++;
  }
}

class ProxyConnection implements DatabaseConnection {
  constructor(
    private readonly client: ProxyClient,
    readonly id: number,
  ) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return (await this.client.call({ op: 'query', conn: this.id, sql: q.sql, parameters: q.parameters })) as QueryResult<R>;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported across threads');
  }
}

class ProxyDriver implements Driver {
  constructor(private readonly client: ProxyClient) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = this.client.newConnection();
    await this.client.call({ op: 'acquire', conn });
    return new ProxyConnection(this.client, conn);
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const level = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await conn.executeQuery(CompiledQuery.raw(`begin${level}`));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    await this.client.call({ op: 'release', conn: (conn as ProxyConnection).id });
  }

  async destroy(): Promise<void> {}
}

/** A Kysely over the database served at the other end of `port` (see `serveDatabase`). */
export function proxiedDatabase(port: MessagePort): Kysely<Database> {
  const client = new ProxyClient(port);
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new ProxyDriver(client),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
  return new Kysely<Database>({ dialect });
}
