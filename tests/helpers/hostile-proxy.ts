/**
 * A hostile proxy for adversarial-server tests: it sits between a real browser and a real
 * Haven site, forwards everything, and lets a test rewrite any answer on the way back (or
 * any request on the way in). It plays the operator, or whoever seized the server or sits
 * in front of it: the one adversary web end-to-end encryption must still hold against.
 *
 * It forwards the browser's own Host header, so the site's same-origin checks see the
 * proxy's origin, exactly as they would behind a real reverse proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedExchange {
  method: string;
  /** Path and query, e.g. `/api/v1/intake`. */
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Returns the (possibly changed) answer, or undefined to pass it through untouched. */
export type AnswerRewrite = (exchange: ProxiedExchange) => ProxiedExchange | undefined | Promise<ProxiedExchange | undefined>;
/** Returns the (possibly changed) request body, or undefined to pass it through. */
export type RequestRewrite = (method: string, url: string, body: Buffer) => Buffer | undefined;

export interface HostileProxy {
  url: string;
  /** Replaces the answer rewrite (none at start: a faithful proxy). */
  rewriteAnswers(rewrite: AnswerRewrite | null): void;
  rewriteRequests(rewrite: RequestRewrite | null): void;
  /** Every exchange seen, for assertions about what the page asked for. */
  seen: { method: string; url: string; status: number }[];
  stop(): Promise<void>;
}

/** Headers a proxy must not copy verbatim (hop-by-hop, or wrong once the body changes). */
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding']);

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON helper for rewrites: parse, change, serialise, keeping the rest of the exchange. */
export function rewriteJson<T>(exchange: ProxiedExchange, change: (json: T) => T): ProxiedExchange {
  const json = JSON.parse(exchange.body.toString('utf8')) as T;
  return { ...exchange, body: Buffer.from(JSON.stringify(change(json)), 'utf8') };
}

function forward(target: URL, method: string, url: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, method, path: url, headers }, resolve);
    req.on('error', reject);
    req.end(body.length > 0 ? body : undefined);
  });
}

export async function startHostileProxy(targetUrl: string): Promise<HostileProxy> {
  const target = new URL(targetUrl);
  let answerRewrite: AnswerRewrite | null = null;
  let requestRewrite: RequestRewrite | null = null;
  const seen: HostileProxy['seen'] = [];

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const method = req.method ?? 'GET';
        const url = req.url ?? '/';
        let body = await readAll(req);
        body = requestRewrite?.(method, url, body) ?? body;
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || DROPPED.has(name) || name === 'accept-encoding') continue;
          headers[name] = value;
        }
        // Ask for identity encoding so rewrites see plain bytes; fetch() could not do this
        // job, since it drops the Host header the site's same-origin check reads.
        headers['accept-encoding'] = 'identity';
        if (body.length > 0) headers['content-length'] = String(body.length);
        const answer = await forward(target, method, url, headers, body);
        const answerHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !DROPPED.has(name) && name !== 'set-cookie') answerHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        let exchange: ProxiedExchange = { method, url, status: answer.statusCode ?? 502, headers: answerHeaders, body: await readAll(answer) };
        exchange = (await answerRewrite?.(exchange)) ?? exchange;
        seen.push({ method, url, status: exchange.status });
        const cookies = answer.headers['set-cookie'] ?? [];
        res.writeHead(exchange.status, { ...exchange.headers, ...(cookies.length ? { 'set-cookie': cookies } : {}), 'content-length': String(exchange.body.length) });
        res.end(exchange.body);
      } catch (err) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`hostile proxy: ${(err as Error).message}`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    rewriteAnswers(rewrite) {
      answerRewrite = rewrite;
    },
    rewriteRequests(rewrite) {
      requestRewrite = rewrite;
    },
    stop() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
