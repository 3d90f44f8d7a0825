/**
 * How each HTTP server holds up under connection floods, with no per-address state (Haven
 * keeps no client address anywhere, so it cannot ban one):
 *
 * - Timeouts cut the cheap attacks: a socket that never finishes its headers (slowloris),
 *   a body trickled a byte at a time, an idle keep-alive connection, a reader that stalls.
 *   Each costs the attacker one socket for seconds, not forever.
 * - Each site has its own connection budget (`server.maxConnections`): past it, Node closes
 *   new sockets as soon as they are accepted. The requester site is open to everyone; the
 *   triage site is for a few responders. Separate budgets mean a flood of the requester
 *   site can never take the sockets the dashboard needs.
 * - Both budgets must fit under the process's open-file limit with room for the database
 *   pool and files. If they do not, the requester budget is lowered at start (and a line
 *   says so), so the requester site is the one that refuses new sockets first and the
 *   triage budget stays whole.
 */
import fs from 'node:fs';
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionLimits } from '../config.ts';
import { errorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Descriptors kept free for everything that is not a client socket: the database pool
 * (10 connections), PGlite's files, the build in dist/ read at start, DNS, the journal.
 */
export const NON_SOCKET_RESERVE = 256;

/** The soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (!soft || soft === 'unlimited') return null;
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export interface Budgets {
  requester: number;
  triage: number;
  /** Set when the requester budget was lowered to fit the open-file limit. */
  loweredFrom: number | null;
  openFileLimit: number | null;
}

/**
 * The two budgets, the requester one lowered (never below 16) to fit `fileLimit` beside the
 * triage budget and the reserve. Node raises its soft limit to the hard one at start, so
 * `fileLimit` is what systemd's LimitNOFILE= (or `ulimit -Hn`) allows.
 */
export function connectionBudgets(limits: ConnectionLimits, fileLimit: number | null = openFileLimit()): Budgets {
  const triage = limits.triageMaxConnections;
  let requester = limits.requesterMaxConnections;
  let loweredFrom: number | null = null;
  if (fileLimit !== null) {
    const room = Math.max(16, fileLimit - triage - NON_SOCKET_RESERVE);
    if (requester > room) {
      loweredFrom = requester;
      requester = room;
    }
  }
  return { requester, triage, loweredFrom, openFileLimit: fileLimit };
}

/**
 * Options for `http.createServer`. The checking interval is what makes the header and
 * request timeouts bite within a second of expiring (Node's default checks every 30 s,
 * which would let a slow body live for up to 30 s past its deadline).
 */
export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
    connectionsCheckingInterval: 1000,
  };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Applies the budget and the idle timeout to a listening server, and answers what Node's
 * parser rejects before Haven sees a request (a timed-out or malformed request) with the one
 * JSON error shape instead of Node's bare text. Nothing about the client is logged: a flood
 * would turn each line into a record of it, and the line could not name who anyway.
 */
export function applyConnectionLimits(server: Server, site: 'requester' | 'triage', limits: ConnectionLimits, maxConnections: number, logger: Logger): void {
  server.maxConnections = maxConnections;
  // Inactivity in either direction; Node destroys the socket when it fires.
  server.timeout = limits.socketIdleTimeoutSeconds * 1000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // As Node's own handler: once a response has started on this socket, no answer can be
    // written into the middle of it.
    // A socket that never sent a byte (an idle flood socket) gets no answer at all: nobody
    // is waiting for one, and in a flood each write is work taken from the other sockets.
    if (!socket.writable || socket.bytesRead === 0 || (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    const status = timedOut ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify(
      timedOut
        ? errorBody('request_timeout', 'The request took too long to arrive.')
        : errorBody('bad_request', 'The request could not be understood.'),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  // An accept() error (EMFILE past the open-file limit, ENFILE) must not end the process:
  // without a listener Node would throw it. One line per kind of error, not per socket.
  const seen = new Set<string>();
  server.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code ?? 'unknown';
    if (seen.has(code)) return;
    seen.add(code);
    logger.warn('accept_failed', { site, code });
  });
}
