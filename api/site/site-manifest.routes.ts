/**
 * `GET /.well-known/haven-manifest.json` on each site, and the admin's
 * `PUT /api/v1/admin/site-manifest` body reader (the route lives in admin.routes.ts, behind
 * the admin session).
 */
import { Hono } from 'hono';
import type { Site } from '../http/security-headers.ts';
import { bytesField, enumField, type JsonObject } from '../http/validate.ts';
import { ValidationError } from '../errors.ts';
import type { SiteManifestService } from './site-manifest.service.ts';

export function siteManifestRoutes(service: SiteManifestService, site: Site) {
  const app = new Hono();
  app.get('/.well-known/haven-manifest.json', async (c) => c.json(await service.served(site)));
  return app;
}

/** `{site, manifestSha256 (64 hex digits), signature (base64url, 64 bytes)}`. @throws ValidationError. */
export function readSignatureBody(body: JsonObject): { site: Site; manifestSha256: Uint8Array; signature: Uint8Array } {
  const site = enumField(body, 'site', ['requester', 'triage'] as const);
  const hex = body.manifestSha256;
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) throw new ValidationError('Field "manifestSha256" must be 64 lowercase hex digits.');
  return { site, manifestSha256: new Uint8Array(Buffer.from(hex, 'hex')), signature: bytesField(body, 'signature', { length: 64 }) };
}
