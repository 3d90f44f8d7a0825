/**
 * Every setting, read from the environment once at start and validated.
 *
 * A bad value stops the process with one line per problem naming the variable and what it
 * accepts; a secret's value is never echoed back, not even in that message.
 */
import path from 'node:path';

export type Mode = 'development' | 'production' | 'test';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** Which sites this instance serves (HAVEN_SITES). */
export type SiteSelection = 'both' | 'requester' | 'triage';

export interface Config {
  mode: Mode;
  /** PostgreSQL connection string; null selects embedded PGlite in `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  host: string;
  requesterPort: number;
  triagePort: number;
  /**
   * `both` (default), or one site per instance: with PostgreSQL, a triage-only instance in a
   * process of its own keeps the dashboard answering while a flood holds the requester
   * site's sockets and event loop (docs/DEPLOY.md section 9).
   */
  sites: SiteSelection;
  logLevel: LogLevel;
  /** Largest request body any endpoint accepts, in bytes (a request with attachments excepted, PROTOCOL.md 10.2). */
  maxBodyBytes: number;
  /** Requests with attachments (bodies above maxBodyBytes) received at once; the next gets 503 before its body is read. */
  largeUploadSlots: number;
  /** Secret for stateless signed challenges and fake salts; null means "generate one in dataDir". */
  serverSecret: Uint8Array | null;
  /** The organisation root public key, from deployment configuration and never the database. */
  rootPublicKey: Uint8Array | null;
  rootPublicKeyFile: string;
  powBaseDifficulty: number;
  powMaxDifficulty: number;
  /** The effort-ordered intake queue (api/intake/effort-queue.ts). */
  intakeQueue: { concurrency: number; maxWaiting: number; maxWaitSeconds: number; perSecond: number };
  /** Ceiling on valid no-JavaScript submissions per minute per instance (they carry no proof of work). */
  plainPerMinute: number;
  /** Ceiling on no-JavaScript lookups per minute per instance: a budget of its own, so reading never blocks sending. */
  plainReadsPerMinute: number;
  /** Where the quick exit of the no-JavaScript pages goes: a neutral, common site. */
  quickExitUrl: string;
  /** HAVEN_REQUESTER_TITLE: the requester pages' tab title; null keeps the neutral default ("Notes" / "Заметки"). */
  requesterTitle: string | null;
  /**
   * HAVEN_TRIAGE_ORIGIN: the dashboard's origin as browsers reach it (`https://triage.example.org`).
   * Passkeys are bound to its host name (the WebAuthn RP ID) and every passkey answer must name
   * it. Unset: the origin is taken from each request's Host header and HAVEN_BEHIND_TLS, as the
   * Origin rule does (PROTOCOL 17.6). Set it in production, so a proxy that rewrites Host
   * cannot change which site passkeys are checked against.
   */
  triageOrigin: string | null;
  /** Set cookies `Secure` and send HSTS: the site is reached over TLS (directly or via a proxy). */
  behindTls: boolean;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  shutdownGraceSeconds: number;
  /** Days after which a team's current intake key is flagged for rotation in the admin dashboard. */
  rotationReminderDays: number;
  /** The requester site's .onion address, announced to Tor Browser with `Onion-Location`. */
  onionRequesterUrl: string | null;
  /** Both sites' socket limits; see `api/http/connection-limits.ts` for why each has its value. */
  connections: ConnectionLimits;
  /** Content-free e-mail notifications (api/notifications/); off when `smtpUrl` is null. */
  notify: NotifyConfig;
}

export interface NotifyConfig {
  /** The organisation's SMTP server, `smtp://` (STARTTLS) or `smtps://`; may carry a password. */
  smtpUrl: string | null;
  /** Refuse to send over an `smtp://` connection that does not upgrade to TLS. */
  smtpRequireTls: boolean;
  /** The From address of every notification. */
  from: string | null;
  /** Minutes between batches: the only timing an e-mail reveals. */
  intervalMinutes: number;
  /** Printed in the fixed body when set (the dashboard's address, the same for everyone). */
  dashboardUrl: string | null;
}

export interface ConnectionLimits {
  /** A client must finish sending its request headers within this many seconds. */
  headersTimeoutSeconds: number;
  /** ...and its whole request, body included, within this many. */
  requestTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this many seconds between requests. */
  keepAliveTimeoutSeconds: number;
  /** Any socket with no traffic either way for this long is closed (slow readers, stalled writes). */
  socketIdleTimeoutSeconds: number;
  /** Open connections the requester site accepts at once; beyond it new sockets are closed at once. */
  requesterMaxConnections: number;
  /** The triage site's own budget, which the requester site can never use. */
  triageMaxConnections: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration. Throws ConfigError listing every bad value. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const mode = read.oneOf('HAVEN_MODE', ['development', 'production', 'test'] as const, 'development');
  const dataDir = path.resolve(read.string('HAVEN_DATA_DIR', './data'));
  const config: Config = {
    mode,
    databaseUrl: read.postgresUrl('DATABASE_URL'),
    dataDir,
    host: read.string('HAVEN_HOST', '127.0.0.1'),
    requesterPort: read.integer('HAVEN_REQUESTER_PORT', 8080, 0, 65535),
    triagePort: read.integer('HAVEN_TRIAGE_PORT', 8081, 0, 65535),
    sites: read.oneOf('HAVEN_SITES', ['both', 'requester', 'triage'] as const, 'both'),
    logLevel: read.oneOf('HAVEN_LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    maxBodyBytes: read.integer('HAVEN_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    // Each holds up to about 22.5 MB in memory while it is read and checked.
    largeUploadSlots: read.integer('HAVEN_LARGE_UPLOAD_SLOTS', 4, 1, 256),
    serverSecret: read.secretKey('HAVEN_SERVER_SECRET'),
    rootPublicKey: read.key32('HAVEN_ROOT_PUBLIC_KEY'),
    rootPublicKeyFile: path.resolve(read.string('HAVEN_ROOT_PUBLIC_KEY_FILE', path.join(dataDir, 'root-public-key.txt'))),
    powBaseDifficulty: read.integer('HAVEN_POW_DIFFICULTY', 16, 0, 32),
    powMaxDifficulty: read.integer('HAVEN_POW_MAX_DIFFICULTY', 20, 0, 32),
    intakeQueue: {
      // Submissions being stored at once; more wait in the queue, highest effort first.
      concurrency: read.integer('HAVEN_INTAKE_CONCURRENCY', 64, 1, 10_000),
      maxWaiting: read.integer('HAVEN_INTAKE_QUEUE', 256, 0, 100_000),
      maxWaitSeconds: read.integer('HAVEN_INTAKE_QUEUE_WAIT_SECONDS', 10, 1, 120),
      // 0: no rate, the database's pace sets the capacity. A rate caps stored submissions per second per instance.
      perSecond: read.integer('HAVEN_INTAKE_PER_SECOND', 0, 0, 100_000),
    },
    plainPerMinute: read.integer('HAVEN_PLAIN_PER_MINUTE', 20, 0, 10_000),
    plainReadsPerMinute: read.integer('HAVEN_PLAIN_READS_PER_MINUTE', 60, 0, 10_000),
    quickExitUrl: read.webUrl('HAVEN_QUICK_EXIT_URL', 'https://www.wikipedia.org/'),
    requesterTitle: read.pageTitle('HAVEN_REQUESTER_TITLE'),
    triageOrigin: read.httpUrl('HAVEN_TRIAGE_ORIGIN'),
    behindTls: read.boolean('HAVEN_BEHIND_TLS', mode === 'production'),
    sessionIdleMinutes: read.integer('HAVEN_SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionMaxHours: read.integer('HAVEN_SESSION_MAX_HOURS', 12, 1, 24 * 7),
    shutdownGraceSeconds: read.integer('HAVEN_SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    onionRequesterUrl: read.onionUrl('HAVEN_ONION_REQUESTER_URL'),
    rotationReminderDays: read.integer('HAVEN_ROTATION_REMINDER_DAYS', 90, 1, 3650),
    connections: {
      headersTimeoutSeconds: read.integer('HAVEN_HEADERS_TIMEOUT_SECONDS', 10, 1, 300),
      requestTimeoutSeconds: read.integer('HAVEN_REQUEST_TIMEOUT_SECONDS', 20, 1, 600),
      keepAliveTimeoutSeconds: read.integer('HAVEN_KEEPALIVE_TIMEOUT_SECONDS', 5, 1, 300),
      socketIdleTimeoutSeconds: read.integer('HAVEN_SOCKET_IDLE_TIMEOUT_SECONDS', 30, 1, 3600),
      requesterMaxConnections: read.integer('HAVEN_REQUESTER_MAX_CONNECTIONS', 8192, 1, 1_000_000),
      triageMaxConnections: read.integer('HAVEN_TRIAGE_MAX_CONNECTIONS', 1024, 1, 1_000_000),
    },
    notify: {
      smtpUrl: read.smtpUrl('HAVEN_SMTP_URL'),
      smtpRequireTls: read.boolean('HAVEN_SMTP_REQUIRE_TLS', true),
      from: read.emailAddress('HAVEN_NOTIFY_FROM'),
      intervalMinutes: read.integer('HAVEN_NOTIFY_INTERVAL_MINUTES', 30, 1, 24 * 60),
      dashboardUrl: read.httpUrl('HAVEN_NOTIFY_DASHBOARD_URL'),
    },
  };

  if (config.triageOrigin !== null) {
    const url = new URL(config.triageOrigin);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') problems.push('HAVEN_TRIAGE_ORIGIN: must be an origin only, such as https://triage.example.org (no path)');
    config.triageOrigin = url.origin;
  }
  if (config.requesterPort !== 0 && config.requesterPort === config.triagePort) {
    problems.push('HAVEN_TRIAGE_PORT: must differ from HAVEN_REQUESTER_PORT (the two sites are separate origins)');
  }
  if (config.sites !== 'both' && config.databaseUrl === null) {
    problems.push('HAVEN_SITES: one site per instance needs PostgreSQL (DATABASE_URL): the embedded database is open in one process only');
  }
  if (config.powMaxDifficulty < config.powBaseDifficulty) {
    problems.push('HAVEN_POW_MAX_DIFFICULTY: must be at least HAVEN_POW_DIFFICULTY');
  }
  if (config.connections.requestTimeoutSeconds < config.connections.headersTimeoutSeconds) {
    problems.push('HAVEN_REQUEST_TIMEOUT_SECONDS: must be at least HAVEN_HEADERS_TIMEOUT_SECONDS (the headers are part of the request)');
  }
  // Only when it is truly unset: a value that is set but too short already has its own line
  // ("must be at least 32 bytes"), and "required" next to it would contradict what the
  // operator can see in their file.
  if (mode === 'production' && config.serverSecret === null && (env.HAVEN_SERVER_SECRET ?? '').trim() === '') {
    problems.push('HAVEN_SERVER_SECRET: required in production (32+ random bytes, base64url or hex), the same on every instance');
  }
  if (config.notify.smtpUrl !== null && config.notify.from === null && (env.HAVEN_NOTIFY_FROM ?? '').trim() === '') {
    problems.push('HAVEN_NOTIFY_FROM: required when HAVEN_SMTP_URL is set (the From address of notifications)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^\d+$/.test(value)) {
      const n = Number(value);
      if (n >= min && n <= max) return n;
    }
    this.problems.push(`${name}: must be a whole number from ${min} to ${max} (got "${value}")`);
    return fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: must be true or false (got "${value}")`);
    return fallback;
  }

  postgresUrl(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    let ok: boolean;
    try {
      const url = new URL(value);
      ok = (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      ok = false;
    }
    // The URL may carry a password: never repeat it.
    if (!ok) this.problems.push(`${name}: must be a postgres:// or postgresql:// URL with a host (value hidden)`);
    return ok ? value : null;
  }

  /** smtp:// or smtps:// with a host; the URL may carry a password, so it is never echoed. */
  smtpUrl(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    let ok: boolean;
    try {
      const url = new URL(value);
      ok = (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) this.problems.push(`${name}: must be an smtp:// or smtps:// URL with a host (value hidden)`);
    return ok ? value : null;
  }

  /** One plain address (no display name: the From line must be the same fixed text every time). */
  emailAddress(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    if (value.length <= 254 && /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(value)) return value;
    this.problems.push(`${name}: must be one e-mail address such as haven@example.org (got "${value.slice(0, 80)}")`);
    return null;
  }

  httpUrl(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    try {
      const url = new URL(value);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && url.username === '' && url.password === '') return url.toString();
    } catch {
      // reported below
    }
    this.problems.push(`${name}: must be an http:// or https:// URL without a user name (got "${value.slice(0, 80)}")`);
    return null;
  }

  /** A short line of plain text (1-60 characters, no control characters), or null when unset or empty. */
  pageTitle(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const text = value.trim();
    const control = [...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
    if (text.length <= 60 && !control) return text;
    this.problems.push(`${name}: must be 1-60 characters of plain text on one line`);
    return null;
  }

  webUrl(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    try {
      const url = new URL(value);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '') return url.href;
    } catch {
      // reported below
    }
    this.problems.push(`${name}: must be an http(s):// URL (got "${value.slice(0, 80)}")`);
    return fallback;
  }

  onionUrl(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    if (/^https?:\/\/[a-z2-7]{56}\.onion\/?$/.test(value)) return value.replace(/\/$/, '');
    this.problems.push(`${name}: must be http(s)://<56 base32 characters>.onion (got "${value.slice(0, 80)}")`);
    return null;
  }

  secretKey(name: string): Uint8Array | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const bytes = decodeKeyText(value);
    if (bytes !== null && bytes.length >= 32) return bytes;
    // Say what is wrong with the value that IS set (never the value itself): "required"
    // would send the operator looking for a setting they can see is there.
    const what = /^REPLACE_WITH/.test(value) ? 'is still the placeholder' : bytes === null ? 'is neither hex nor base64url' : `is too short (${bytes.length} bytes)`;
    this.problems.push(`${name}: must be at least 32 bytes as hex or base64url; the value set ${what}. Generate one with \`openssl rand -hex 32\` (value hidden)`);
    return null;
  }

  key32(name: string): Uint8Array | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const bytes = decodeKeyText(value);
    if (bytes !== null && bytes.length === 32) return bytes;
    this.problems.push(`${name}: must be a 32-byte public key as hex or base64url (got "${value.slice(0, 80)}")`);
    return null;
  }
}

/** Hex or unpadded/padded base64url or base64; null when it is neither. */
export function decodeKeyText(text: string): Uint8Array | null {
  const value = text.trim();
  if (/^([0-9a-fA-F]{2})+$/.test(value)) return Uint8Array.from(Buffer.from(value, 'hex'));
  if (/^[A-Za-z0-9_\-+/]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length > 0 ? Uint8Array.from(bytes) : null;
  }
  return null;
}
