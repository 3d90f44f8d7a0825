/**
 * [availability] Holding under connection floods, with no per-address state:
 * - a client that trickles its body is cut within the configured request timeout, one that
 *   trickles its headers within the header timeout (each answered 408 in the JSON error shape);
 * - a client that aborts a chunked upload is not reported as a database outage (no 503, no
 *   `database_unavailable` line);
 * - with the requester site's connection budget taken by idle sockets, the triage site still
 *   answers at once, and the requester site answers again as soon as they close.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { createLogger } from '../../api/logger.ts';
import { startServer, type RunningServer } from '../../api/server.ts';

const HEADERS_TIMEOUT_S = 2;
const REQUEST_TIMEOUT_S = 3;
const BUDGET = 50;
/** How late after its deadline a cut may come: Node checks expired sockets every second. */
const SLACK_MS = 1500;

let server: RunningServer;
let dataDir: string;
const logLines: string[] = [];
const sockets: net.Socket[] = [];

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Opens a raw socket and resolves once connected. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Resolves with what the server sent and when it closed, measured from `since`. */
function untilClosed(socket: net.Socket, since: number): Promise<{ ms: number; received: string }> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => {});
    socket.once('close', () => resolve({ ms: Date.now() - since, received }));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-flood-'));
  const config = loadConfig({
    HAVEN_MODE: 'test',
    HAVEN_DATA_DIR: dataDir,
    HAVEN_REQUESTER_PORT: '0',
    HAVEN_TRIAGE_PORT: '0',
    HAVEN_SERVER_SECRET: 'c'.repeat(64),
    HAVEN_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S),
    HAVEN_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_S),
    HAVEN_KEEPALIVE_TIMEOUT_SECONDS: '1',
    HAVEN_REQUESTER_MAX_CONNECTIONS: String(BUDGET),
    HAVEN_TRIAGE_MAX_CONNECTIONS: String(BUDGET),
  });
  server = await startServer(config, createLogger('debug', (line) => logLines.push(line)));
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('[availability] connection floods', () => {
  it('cuts a client that trickles its body within the request timeout, with a JSON 408', async () => {
    const socket = await connect(portOf(server.requesterUrl));
    const started = Date.now();
    const closed = untilClosed(socket, started);
    socket.write('POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const trickle = setInterval(() => socket.writable && socket.write(' '), 300);
    const { ms, received } = await closed;
    clearInterval(trickle);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 100);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + SLACK_MS);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"request_timeout"');
  });

  it('cuts a client that trickles its headers within the header timeout', async () => {
    const socket = await connect(portOf(server.requesterUrl));
    const started = Date.now();
    const closed = untilClosed(socket, started);
    socket.write('GET / HTTP/1.1\r\n');
    let n = 0;
    const trickle = setInterval(() => socket.writable && socket.write(`X-${n++}: a\r\n`), 300);
    const { ms, received } = await closed;
    clearInterval(trickle);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_S * 1000 + SLACK_MS);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts a socket that never sends anything', async () => {
    const socket = await connect(portOf(server.triageUrl));
    const { ms } = await untilClosed(socket, Date.now());
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_S * 1000 + SLACK_MS);
  });

  it('does not report an aborted chunked upload as a database outage', async () => {
    const before = logLines.length;
    const socket = await connect(portOf(server.requesterUrl));
    socket.on('error', () => {});
    socket.write('POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"env\r\n');
    await sleep(200);
    socket.destroy();
    const until = Date.now() + 5000;
    // The body limit reads a chunked body before routing, so the line names the route `/*`.
    const requestLine = () => logLines.slice(before).find((l) => l.includes('"event":"request"') && l.includes('"method":"POST"'));
    while (!requestLine() && Date.now() < until) await sleep(50);
    const lines = logLines.slice(before);
    expect(requestLine(), lines.join('\n')).toBeDefined();
    expect(lines.join('\n')).not.toContain('database_unavailable');
    expect(lines.join('\n')).not.toContain('unhandled_error');
    expect(JSON.parse(requestLine()!)).toMatchObject({ status: 400 });
    // The client's address, of course, appears nowhere.
    expect(lines.join('\n')).not.toContain('127.0.0.1');
  });

  it('keeps the triage site answering while idle sockets hold the whole requester budget', async () => {
    const requesterPort = portOf(server.requesterUrl);
    const held = await Promise.all(Array.from({ length: BUDGET }, () => connect(requesterPort)));
    await sleep(100);
    // Past the budget, a new requester socket is closed without an answer...
    const extra = await connect(requesterPort);
    const refused = await untilClosed(extra, Date.now());
    expect(refused.received).toBe('');
    // ...while the triage site answers at once.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await fetch(new URL('/api/v1/health/live', server.triageUrl), { signal: AbortSignal.timeout(2000) });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(500);
    }
    // The flood ends: the requester site answers again.
    for (const s of held) s.destroy();
    const ended = Date.now();
    let status = 0;
    while (status !== 200 && Date.now() - ended < 5000) {
      status = await fetch(new URL('/api/v1/health/live', server.requesterUrl), { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await sleep(50);
    }
    expect(status).toBe(200);
  });
});
