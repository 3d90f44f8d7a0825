/**
 * Sets the organisation's second-factor policy through the API as an admin's browser does:
 * on the current audit head, signed with the admin's key (PROTOCOL 22.12, 24.1).
 */
import type { Hono } from 'hono';
import { base64urlDecode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { auditJson, signAuditEntry } from '../../crypto/v1/admin.ts';

export async function putPolicy(
  app: Hono,
  p: Primitives,
  cookie: string,
  admin: { id: Uint8Array; ed25519Seed: Uint8Array },
  policy: string,
  signed: string = policy,
): Promise<{ status: number; json: Record<string, unknown> & { error?: { code: string } } }> {
  const head = (await (await app.request('/api/v1/admin/audit/head', { headers: { cookie } })).json()) as { hash?: string };
  const audit = head.hash
    ? auditJson(signAuditEntry(p, { action: 'second_factor.policy', actorId: admin.id, prevHash: base64urlDecode(head.hash), ed25519Seed: admin.ed25519Seed, targets: { policy: signed } }))
    : undefined;
  const res = await app.request('/api/v1/admin/second-factor-policy', {
    method: 'PUT', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ policy, ...(audit ? { audit } : {}) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
