/** Listening and graceful closing, shared by the main thread and the triage thread. */
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';

export function listen(fetch: (req: Request) => Response | Promise<Response>, host: string, port: number, options: ServerOptions): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port, serverOptions: options }, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}

export function urlOf(port: number, host: string): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

export function portOf(server: ServerType): number {
  return (server.address() as AddressInfo).port;
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
export function closeServer(server: ServerType, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const http = server as Server;
    const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
    http.close(() => {
      clearTimeout(timer);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}
